/**
 * The scenarios in the order they run, which is also the order of their rows in the table. Start-up
 * measures first all the same (its beforeServer step, before the server under test starts); its rows come
 * last because its second one, the idle RSS, is read after the shared warm-up.
 */
import { big } from './big.mjs';
import { concurrency } from './concurrency.mjs';
import { exec } from './exec.mjs';
import { files } from './files.mjs';
import { gpu } from './gpu.mjs';
import { ollama } from './ollama.mjs';
import { startup } from './startup.mjs';

export const SCENARIOS = [gpu, exec, concurrency, big, files, ollama, startup];
