/**
 * FsErrors that reach the service (the jail handles the path-resolution ones) as the documented errors,
 * each naming the host, the path and what to do.
 */
import { AppError } from '../../common/errors.js';
import { FsError } from '../../infra/files/file-system.js';

/**
 * `doing` completes "could not ...", e.g. "write /home/ccpm/x". Anything that is not an FsError (an
 * AppError from the transport: timeout, connection lost) passes through unchanged.
 */
export function fsToAppError(err: unknown, host: string, doing: string): unknown {
  if (!(err instanceof FsError)) return err;
  const at = `on host '${host}'`;
  switch (err.code) {
    case 'ENOENT':
      return new AppError(
        404,
        'FILE_NOT_FOUND',
        `Could not ${doing} ${at}: it (or its directory) does not exist any more; use files_list to see what is there.`,
      );
    case 'EACCES':
      return new AppError(
        403,
        'FORBIDDEN',
        `Could not ${doing} ${at}: permission denied for the account the server uses; check the file's owner and permissions on the host.`,
      );
    case 'EEXIST':
      return new AppError(409, 'CONFLICT', `Could not ${doing} ${at}: something already exists at that path.`);
    case 'ENOTDIR':
      return new AppError(400, 'VALIDATION_FAILED', `Could not ${doing} ${at}: a part of the path is a file, not a directory.`);
    case 'EISDIR':
      return new AppError(400, 'VALIDATION_FAILED', `Could not ${doing} ${at}: it is a directory.`);
    case 'ENOTEMPTY':
      return new AppError(409, 'CONFLICT', `Could not ${doing} ${at}: the directory is not empty.`);
    case 'ELOOP':
      return new AppError(
        403,
        'PATH_OUTSIDE_ROOT',
        `Could not ${doing} ${at}: a symbolic link appeared at that path while it was being used; it is not followed.`,
      );
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return new AppError(
        400,
        'VALIDATION_FAILED',
        `Could not ${doing} ${at}: the host refused the path or the request as invalid (a name too long, or moving a directory into itself).`,
      );
    case 'EXDEV':
      return new AppError(
        409,
        'CONFLICT',
        `Could not ${doing} ${at}: source and destination are on different file systems, and moves only rename within one.`,
      );
    case 'ENOSPC':
      return new AppError(
        503,
        'HOST_ERROR',
        `Could not ${doing} ${at}: no space left on the device (or the quota is used up); free some space (host_resources shows the disks) and try again.`,
      );
    case 'EROFS':
      return new AppError(403, 'FORBIDDEN', `Could not ${doing} ${at}: the file system is mounted read-only.`);
    case 'ENOTSUP':
      return new AppError(
        503,
        'HOST_ERROR',
        `Could not ${doing} ${at}: the host's file server does not support this (${err.detail ?? err.op}); an OpenSSH sftp-server is needed.`,
      );
    case 'EIO':
    default:
      return new AppError(
        503,
        'HOST_ERROR',
        `Could not ${doing} ${at}: the host reported a failure${err.detail && err.detail !== 'Failure' ? ` (${err.detail})` : ''}; check free space and permissions there (SFTP does not say more), then try again.`,
      );
  }
}
