/**
 * Inputs that have broken validators elsewhere: unknown fields named like Object.prototype members, an array
 * in place of a list item object, deeply nested JSON; over REST and raw MCP.
 *
 * Every answer must be a refusal in the documented error shape, never a 5xx, and the server stays up; the
 * fields an input leaves valid hold harmless values (a command that does not exist, a path inside a temp
 * files root, a fake Ollama). The operations come from the served /openapi.json, so new operations are
 * covered without touching this file. Shared setup and checks: test/support/fuzz/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { baseValue } from '../support/fuzz/invalid-inputs.js';
import {
  checkRawToolRefusal,
  checkRefusal,
  checkToolRefusal,
  itIsStillHealthy,
  restRequest,
  startFuzzTarget,
} from '../support/fuzz/target.js';

const target = await startFuzzTarget();
const { ops: OPS, mcp, send, mcpRaw, mcpRawText, filesRoot } = target;
afterAll(() => target.stop());

describe('inputs that have broken validators elsewhere', () => {
  // Unknown fields named like Object.prototype members slip past class-validator's whitelist check (its
  // metadata lookup is a plain object, so `constructor` and `hasOwnProperty` look declared) and past
  // class-transformer (which skips keys whose value on the new instance is a function, and `__proto__`).
  // If that happens the operation runs with the required fields' harmless base values (a command that does
  // not exist, a path inside the temp files root, a model the fake Ollama does not have).
  const PROTO_KEYS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

  it('refuses unknown fields named like Object.prototype members, on every operation (REST and MCP)', async () => {
    const problems: string[] = [];
    const note = async (check: () => void | Promise<void>) => {
      try {
        await check();
      } catch (e) {
        problems.push((e as Error).message);
      }
    };
    for (const op of OPS) {
      const base: Record<string, unknown> = Object.fromEntries(
        op.fields.filter((f) => f.required).map((f) => [f.name, baseValue(f.schema)]),
      );
      for (const key of PROTO_KEYS) {
        const req = restRequest(op, base);
        // JSON.stringify would drop a __proto__ key set by assignment: splice the text by hand.
        const a = op.hasBody
          ? await send(op.method, req.urlPath, {
              body: req.body!.replace(/^\{/, `{${JSON.stringify(key)}:{"polluted":1},`).replace(/,\}$/, '}'),
              contentType: 'application/json',
            })
          : await send(op.method, `${req.urlPath}${req.urlPath.includes('?') ? '&' : '?'}${key}=1`);
        await note(() => checkRefusal(a, `REST ${op.id} with unknown field ${key}`));
        const args = JSON.parse(
          JSON.stringify(base)
            .replace(/^\{/, `{${JSON.stringify(key)}:{"polluted":1},`)
            .replace(/,\}$/, '}'),
        );
        // The MCP SDK's own schema parsing drops a "__proto__" key before the server's code sees the
        // arguments (zod copies records key by key and skips it; checked with the SDK's
        // CallToolRequestSchema), so the operation runs with the remaining, valid arguments: nothing
        // reaches the server to refuse. It must still answer with a tool result, not a protocol error.
        if (key === '__proto__') {
          await note(async () => {
            const raw = await mcpRaw(op.id, args);
            // A tool result (whatever the operation's own outcome on this GPU-less host), not a protocol error.
            expect(raw.status).toBe(200);
            expect(raw.body?.result?.content?.[0]?.type).toBe('text');
          });
          continue;
        }
        await note(() => checkRawToolRefusal(mcpRaw(op.id, args), `MCP ${op.id} with unknown field ${key}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses an array where a list item object is expected (REST and MCP)', async () => {
    // class-validator's @ValidateNested({ each: true }) validates an array found in place of an item as a
    // list of items, so `[[]]` passes as a list of one "item" unless the items are also checked to be objects.
    // The base path is made an existing file, as it would be for a real edit.
    rmSync(path.join(filesRoot, 'fuzz-nonexistent'), { recursive: true, force: true });
    writeFileSync(path.join(filesRoot, 'fuzz-nonexistent'), 'fuzz\n');
    const problems: string[] = [];
    let cases = 0;
    for (const op of OPS) {
      for (const field of op.fields.filter((f) => f.schema.type === 'array' && f.schema.items?.type === 'object')) {
        const base: Record<string, unknown> = Object.fromEntries(
          op.fields.filter((f) => f.required).map((f) => [f.name, baseValue(f.schema)]),
        );
        for (const value of [[[]], [[baseValue(field.schema.items)]]]) {
          cases++;
          const values = { ...base, [field.name]: value };
          const req = restRequest(op, values);
          const what = `${op.id} ${field.name}=${JSON.stringify(value)}`;
          try {
            checkRefusal(await send(op.method, req.urlPath, { body: req.body, contentType: 'application/json' }), `REST ${what}`);
          } catch (e) {
            problems.push((e as Error).message);
          }
          try {
            checkToolRefusal(await mcp.client.callTool({ name: op.id, arguments: values }), `MCP ${what}`);
          } catch (e) {
            problems.push((e as Error).message);
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('answers deeply nested JSON with a 4xx, not a stack overflow (REST and MCP)', async () => {
    const depth = 5_000; // ~10 KB of text, far below the body limit
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const problems: string[] = [];
    for (const op of OPS) {
      if (op.hasBody) {
        const a = await send('POST', op.path, { body: `{"fuzz_deep":${nested}}`, contentType: 'application/json' });
        try {
          checkRefusal(a, `REST ${op.id} body nested ${depth} deep`);
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      // Raw JSON-RPC: the SDK client itself overflows serialising such arguments.
      try {
        await checkRawToolRefusal(mcpRawText(op.id, `{"fuzz_deep":${nested}}`), `MCP ${op.id} argument nested ${depth} deep`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    expect(problems).toEqual([]);
  });

  itIsStillHealthy(target);
});
