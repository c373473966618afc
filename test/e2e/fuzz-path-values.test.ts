/**
 * Read operations given traversal and odd path values that are well-formed for the schema, so the operation
 * runs and must still refuse.
 *
 * Every answer must be a refusal in the documented error shape, never a 5xx, and the server stays up; the
 * fields an input leaves valid hold harmless values (a command that does not exist, a path inside a temp
 * files root, a fake Ollama). The operations come from the served /openapi.json, so new operations are
 * covered without touching this file. Shared setup and checks: test/support/fuzz/.
 */
import { afterAll, describe, it } from 'vitest';
import { baseValue, TRAVERSAL } from '../support/fuzz/invalid-inputs.js';
import { checkRefusal, itIsStillHealthy, restRequest, startFuzzTarget } from '../support/fuzz/target.js';

const target = await startFuzzTarget();
const { ops: OPS, send } = target;
afterAll(() => target.stop());

describe('read operations given traversal and odd paths', () => {
  // These inputs are well-formed for the schema, so the operation runs: only read operations get them, and
  // the answer must still be a refusal (403 outside the root, 404 for a name that does not exist there,
  // 400 for a NUL), never the content of a file outside the files root.
  const PATHS = [...TRAVERSAL, '\ud800', '\u202eevil', 'a\u0000b'];
  const cases = OPS.filter((op) => op.method === 'GET').flatMap((op) =>
    op.fields
      // files_search's `pattern` is a name glob, never resolved as a path ("..", "\u202eevil" are names it may match).
      .filter((f) => f.schema.type === 'string' && !f.schema.pattern && !f.schema.format && !f.schema.enum && f.in === 'query')
      .filter((f) => !(op.id === 'files_search' && f.name === 'pattern'))
      .map((f) => [op.id, f.name, op] as const),
  );

  for (const [id, fieldName, op] of cases) {
    it(`${id} refuses traversal and odd values of ${fieldName}`, async () => {
      for (const p of PATHS) {
        const values: Record<string, unknown> = Object.fromEntries(
          op.fields.filter((f) => f.required).map((f) => [f.name, baseValue(f.schema)]),
        );
        values[fieldName] = p;
        const req = restRequest(op, values);
        checkRefusal(await send('GET', req.urlPath), `${op.id} ${fieldName}=${JSON.stringify(p)}`, [
          'VALIDATION_FAILED',
          'PATH_OUTSIDE_ROOT',
          'FILE_NOT_FOUND',
        ]);
      }
    });
  }

  itIsStillHealthy(target);
});
