import { Body, Controller } from '@nestjs/common';
import { ClientSignal } from '../../common/client-signal.js';
import { Operation } from '../../operations/operation.js';
import { ShellExecInput } from './dto/shell.dto.js';
import { shellExec } from './shell.operations.js';
import { ShellService } from './shell.service.js';

@Controller()
export class ShellController {
  constructor(private readonly shell: ShellService) {}

  @Operation(shellExec)
  shell_exec(@Body() input: ShellExecInput, @ClientSignal() signal: AbortSignal) {
    return this.shell.shell_exec(input, { signal });
  }
}
