import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Every entry under `dir` with its type, content hash and mtime: any change shows. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[p] = `dir ${st.mtimeMs}`;
        walk(p);
      } else if (st.isFile()) out[p] = `file ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      else out[p] = `${st.isSymbolicLink() ? 'link' : 'other'} ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}
