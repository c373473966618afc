import { defineOperation } from '../../operations/operation.js';
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
    'Runs a shell command on the host: exit_code, stdout, stderr (long output keeps start and end). Use it when no other tool fits, e.g. "df -h".',
  input: ShellExecInput,
  output: ShellExecResult,
  service: ShellService,
  destructive: true,
  idempotent: false,
});
