/**
 * Fuzzing every MCP tool (official SDK client) with argument objects generated from the tool's input schema
 * and made INVALID.
 *
 * Every answer must be a refusal in the documented error shape, never a 5xx, and the server stays up; the
 * fields an input leaves valid hold harmless values (a command that does not exist, a path inside a temp
 * files root, a fake Ollama). The operations come from the served /openapi.json, so new operations are
 * covered without touching this file. Shared setup and checks: test/support/fuzz/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { invalidInput, preview } from '../support/fuzz/invalid-inputs.js';
import { type Field } from '../support/fuzz/schema.js';
import { checkToolRefusal, itKeptTheEventLoopResponsive, itIsStillHealthy, RUNS, startFuzzTarget } from '../support/fuzz/target.js';

const target = await startFuzzTarget();
const { ops: OPS, tools: TOOLS, mcp } = target;
afterAll(() => target.stop());

describe('MCP', () => {
  it('lists one tool per operation', () => {
    expect([...TOOLS.keys()].sort()).toEqual(OPS.map((o) => o.id).sort());
  });

  it.each(OPS.map((op) => op.id))(
    `tools/call %s refuses ${RUNS} generated invalid argument objects with an isError 4xx result`,
    async (id) => {
      const schema = TOOLS.get(id)!.inputSchema;
      const fields: Field[] = Object.entries<any>(schema.properties ?? {}).map(([name, s]) => ({
        name,
        schema: s,
        required: (schema.required ?? []).includes(name),
        in: 'body',
      }));
      await fc.assert(
        fc.asyncProperty(
          invalidInput(fields, () => 'json', 'json'),
          async (input) => {
            const result = await mcp.client.callTool({ name: id, arguments: input.values });
            checkToolRefusal(result, `${id}(${preview(input.values)}) breaking [${input.broken.join('; ')}]`);
          },
        ),
        { numRuns: RUNS },
      );
    },
  );

  itKeptTheEventLoopResponsive(target);
  itIsStillHealthy(target);
});
