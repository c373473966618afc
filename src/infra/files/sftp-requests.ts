/**
 * One SFTP request at a time, as the SFTP adapter sends them: each with a bound, its SFTP status turned
 * into an FsError, and connection trouble (a lost session, no answer) into the AppError that names the
 * host and what to do.
 */
import type { SFTPWrapper } from 'ssh2';
import { AppError } from '../../common/errors.js';
import { FsError } from './file-system.js';

export interface SftpFileSystemOptions {
  /** Returns the transport's cached SFTP session (connecting first if needed). */
  sftp: () => Promise<SFTPWrapper>;
  /** "user@host:port", for error messages. */
  address: string;
  /** Bound on every single SFTP request. */
  opTimeoutMs?: number;
  /**
   * Called when a request is sent; the function it returns when the answer came (or the request gave
   * up). The ssh transport's awaitReply: a wedged connection is then dropped within seconds and the
   * request fails at once instead of waiting out opTimeoutMs.
   */
  awaitReply?: () => () => void;
}

/** SSH_FX_* status codes (draft-ietf-secsh-filexfer-02). */
export const FX = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

export type SftpCallback<T> = (err: Error | undefined | null, value?: T) => void;

export class SftpRequests {
  private readonly opTimeoutMs: number;

  constructor(private readonly options: SftpFileSystemOptions) {
    this.opTimeoutMs = options.opTimeoutMs ?? 30_000;
  }

  /** One SFTP request with a bound; SFTP status codes become FsErrors, connection trouble an AppError. */
  call<T>(op: string, p: string, fn: (sftp: SFTPWrapper, cb: SftpCallback<T>) => void): Promise<T> {
    return this.options.sftp().then(
      (sftp) =>
        new Promise<T>((resolve, reject) => {
          const answered = this.options.awaitReply?.() ?? (() => {});
          const timer = setTimeout(() => {
            answered();
            reject(
              new AppError(
                504,
                'HOST_TIMEOUT',
                `The SFTP ${op} of ${p} on ${this.options.address} got no answer within ${this.opTimeoutMs / 1000} s; check that the host is not overloaded or its disk hung, then try again.`,
              ),
            );
          }, this.opTimeoutMs);
          try {
            fn(sftp, (err, value) => {
              answered();
              clearTimeout(timer);
              if (err) reject(this.toError(err, op, p));
              else resolve(value as T);
            });
          } catch (err) {
            answered();
            clearTimeout(timer);
            reject(this.toError(err as Error, op, p));
          }
        }),
    );
  }

  /** Closes a file or directory handle; a failure to close is not the caller's problem. */
  async closeHandle(handle: Buffer, p: string): Promise<void> {
    await this.call<void>('close', p, (s, cb) => s.close(handle, (e) => cb(e))).catch(() => undefined);
  }

  private toError(err: Error & { code?: unknown }, op: string, p: string): Error {
    if (err instanceof AppError) return err;
    const text = err.message;
    switch (err.code) {
      case FX.EOF:
        return new FsError('EIO', op, p, 'EOF');
      case FX.NO_SUCH_FILE:
        return new FsError('ENOENT', op, p, text);
      case FX.PERMISSION_DENIED:
        return new FsError('EACCES', op, p, text);
      case FX.BAD_MESSAGE:
        // OpenSSH maps ENAMETOOLONG and EINVAL here.
        return new FsError('EINVAL', op, p, text);
      case FX.OP_UNSUPPORTED:
        return new FsError('ENOTSUP', op, p, text);
      case FX.FAILURE:
        return new FsError('EIO', op, p, text);
      case FX.NO_CONNECTION:
      case FX.CONNECTION_LOST:
      default:
        // ssh2 fails every outstanding request with "No response from server" when the channel closes.
        return new AppError(
          503,
          'HOST_UNREACHABLE',
          `The SFTP session to ${this.options.address} was lost during ${op} of ${p}; the operation may or may not have taken effect, so check before retrying.`,
        );
    }
  }
}

/** An FsError for the end of a file or directory listing (SFTP answers it as a status). */
export const isEof = (err: unknown) => err instanceof FsError && err.detail === 'EOF';
