import { Module } from '@nestjs/common';
import { ShellController } from './shell.controller.js';
import { ShellService } from './shell.service.js';

@Module({ controllers: [ShellController], providers: [ShellService] })
export class ShellModule {}
