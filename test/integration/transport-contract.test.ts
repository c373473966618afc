/**
 * One contract, both transports: the local one (child processes here) and the ssh one against the
 * shared real OpenSSH server (test/support/sshd.ts). What only one of them has (host keys, reconnects,
 * the wedge probe, MaxSessions, warm shells; close() killing local children) is tested in its own file.
 */
import { LocalTransport } from '../../src/infra/local/local-transport.js';
import { sharedSshd } from '../support/context.js';
import { sshTransportTo } from '../support/ssh-transport.js';
import { describeTransportContract } from '../support/transport-contract.js';

describeTransportContract('LocalTransport', () => new LocalTransport());
describeTransportContract('SshTransport', () => sshTransportTo(sharedSshd()));
// Hosts without setsid(1), and ssh.warm_shells: false: a session per command.
describeTransportContract('SshTransport, a channel per command', () => sshTransportTo(sharedSshd(), { warmShells: false }));
