import { defineOperation } from '../../common/operation.js';
import { ShellExecInput, ShellExecResult } from './dto/shell.dto.js';
import { ShellService } from './shell.service.js';

export const shellExec = defineOperation({
  id: 'shell_exec',
  area: 'shell',
  method: 'POST',
  path: '/shell/exec',
  scope: 'shell',
  summary: 'Run a shell command on the host',
  description:
    'Runs one shell command on the GPU host (through the account\'s shell, stdin closed) and returns exit_code, stdout, stderr, truncation flags, byte counts, timed_out and duration_ms. A non-zero exit is a normal result, not an error. Long output keeps its beginning and end. The command is killed with its children after timeout_seconds. Prefer the dedicated tools (gpu_status, host_resources, files_*, ollama_*) when one fits; use this for anything else, e.g. "df -h", "journalctl -u ollama -n 50", "systemctl status ollama".',
  input: ShellExecInput,
  output: ShellExecResult,
  service: ShellService,
  destructive: true,
  idempotent: false,
});
