/**
 * Fuzzing every operation over REST with inputs generated from the operation's own schema and made INVALID
 * (wrong types, missing required fields, unknown fields, values breaking a pattern / length / range / enum /
 * format, huge and odd strings), each also sent as tools/call arguments.
 *
 * Every answer must be a refusal in the documented error shape, never a 5xx, and the server stays up; the
 * fields an input leaves valid hold harmless values (a command that does not exist, a path inside a temp
 * files root, a fake Ollama). The operations come from the served /openapi.json, so new operations are
 * covered without touching this file. Shared setup and checks: test/support/fuzz/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { invalidInput, preview } from '../support/fuzz/invalid-inputs.js';
import { conforms } from '../support/fuzz/schema.js';
import {
  checkRefusal,
  checkToolRefusal,
  itKeptTheEventLoopResponsive,
  itIsStillHealthy,
  restRequest,
  RUNS,
  startFuzzTarget,
} from '../support/fuzz/target.js';

const target = await startFuzzTarget();
const { ops: OPS, tools: TOOLS, mcp, send } = target;
afterAll(() => target.stop());

describe('fuzzing every operation with invalid input over REST', () => {
  it('covers every operation of the served spec', () => {
    expect(OPS.length).toBeGreaterThanOrEqual(13);
    for (const op of OPS) expect(op.id).toMatch(/^[a-z][a-z0-9_]{0,39}$/);
  });

  describe.each(OPS.map((op) => [op.id, op] as const))('REST %s', (id, op) => {
    it(`refuses ${RUNS} generated invalid inputs with a 4xx in the error shape, and so does tools/call with the same arguments`, async () => {
      const arb = invalidInput(op.fields, (f) => (f.in === 'body' ? 'json' : 'query'), op.hasBody ? 'json' : 'query');
      await fc.assert(
        fc.asyncProperty(arb, async (input) => {
          const req = restRequest(op, input.values);
          fc.pre(req.urlPath.length < 15_000); // beyond Node's header limit the app never sees it (431 test)
          const a = await send(op.method, req.urlPath, {
            body: req.body,
            contentType: req.body !== undefined ? 'application/json' : undefined,
          });
          const what = `${op.method} ${req.urlPath.slice(0, 200)} body=${preview(req.body)} breaking [${input.broken.join('; ')}]`;
          checkRefusal(a, what);
          // The same values as MCP arguments. A query value was checked as the server decodes it (a lone
          // surrogate becomes U+FFFD), so send it only if it is also invalid as raw JSON.
          if (!conforms(input.values, TOOLS.get(id)!.inputSchema)) {
            checkToolRefusal(await mcp.client.callTool({ name: id, arguments: input.values }), `tools/call ${id}: ${what}`);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  itKeptTheEventLoopResponsive(target);
  itIsStillHealthy(target);
});
