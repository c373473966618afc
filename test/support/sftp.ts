/**
 * An SFTP session to the shared test sshd on a plain ssh2 client (no transport, no pool), and the
 * product's SftpFileSystem over it: what the files adapter and jail tests run against.
 */
import { readFileSync } from 'node:fs';
import { Client, type SFTPWrapper } from 'ssh2';
import { SftpFileSystem } from '../../src/infra/files/sftp-file-system.js';
import type { SshdInfo } from './sshd.js';

export interface SftpSession {
  sftp: SFTPWrapper;
  /** Ends the SSH connection (and with it the session). */
  close(): void;
}

export async function openSftp(s: SshdInfo): Promise<SftpSession> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client
      .once('ready', () => resolve())
      .once('error', reject)
      .connect({ host: s.host, port: s.port, username: s.username, privateKey: readFileSync(s.privateKeyPath) });
  });
  try {
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, w) => (err ? reject(err) : resolve(w))));
    return { sftp, close: () => client.end() };
  } catch (err) {
    client.end();
    throw err;
  }
}

/** SftpFileSystem over one session to `s`; `close` ends it. */
export async function sftpFileSystem(s: SshdInfo): Promise<{ fs: SftpFileSystem; close(): void }> {
  const session = await openSftp(s);
  return { fs: new SftpFileSystem({ sftp: async () => session.sftp, address: 'test' }), close: session.close };
}
