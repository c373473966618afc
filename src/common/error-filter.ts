import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { errorBody, toAppError } from './errors.js';

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Error');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const err = toAppError(exception, this.log);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(err.status).json(errorBody(err));
  }
}
