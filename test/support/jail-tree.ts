/**
 * The layout the jail suites try to escape from (root = <base>/ccpm):
 *   <base>/outside/secret.txt            what must stay out of reach
 *   <base>/ccpm-evil/secret.txt          a sibling whose name starts with the root's
 *   <root>/sub/                          an ordinary directory inside
 *   <root>/link-out     -> <base>/outside/secret.txt
 *   <root>/dirlink-out  -> <base>/outside
 *   <root>/link-root    -> /
 *   <root>/loop1 <-> <root>/loop2
 *   <root>/dangling-out -> <base>/outside/planted.txt (does not exist)
 * Each suite adds its own entries on top.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface JailTree {
  root: string;
  outside: string;
  evil: string;
}

export function makeJailTree(base: string): JailTree {
  const root = path.join(base, 'ccpm');
  const outside = path.join(base, 'outside');
  const evil = path.join(base, 'ccpm-evil');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  mkdirSync(evil);
  writeFileSync(path.join(outside, 'secret.txt'), 'outside secret\n');
  writeFileSync(path.join(evil, 'secret.txt'), 'evil secret\n');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link-out'));
  symlinkSync(outside, path.join(root, 'dirlink-out'));
  symlinkSync('/', path.join(root, 'link-root'));
  symlinkSync(path.join(root, 'loop2'), path.join(root, 'loop1'));
  symlinkSync(path.join(root, 'loop1'), path.join(root, 'loop2'));
  symlinkSync(path.join(outside, 'planted.txt'), path.join(root, 'dangling-out'));
  return { root, outside, evil };
}
