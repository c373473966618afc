/**
 * Credentials and login files, out of reach of the file tools. The files root defaults to the account's
 * home, where the SSH keys, cloud tokens and the scripts a login runs live: reading them hands out the
 * keys to other machines, and writing them (authorized_keys, .bashrc, a systemd user unit, a crontab)
 * turns the write scope into a shell. These paths are refused whatever the jail would allow.
 *
 * A rule is a path of one or more names. A relative rule (".ssh", ".config/gh") matches wherever those
 * names appear in a row in the path, at any depth: below the account's home, below the files root, in
 * another user's home when the root is /home or /, and after a move of the directory holding it. An
 * absolute rule ("/etc/shadow") matches that place. Either matches the place itself and everything below
 * it. Names are compared without regard to case, so a host whose file system ignores case (macOS, a
 * mounted FAT or SMB share) cannot be asked for ".SSH" to get ".ssh".
 */

/** The built-in list; a host's `files_protected_paths` replaces it, and may include it as "default". */
export const DEFAULT_PROTECTED_PATHS: readonly string[] = [
  // Keys and tokens for other machines and services.
  '.ssh',
  '.gnupg',
  '.netrc',
  '.authinfo',
  '.authinfo.gpg',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.kube',
  '.docker/config.json',
  '.config/gh',
  '.config/hub',
  '.git-credentials',
  '.config/git/credentials',
  '.pgpass',
  '.my.cnf',
  '.mylogin.cnf',
  '.password-store',
  '.vault-token',
  '.npmrc',
  '.yarnrc.yml',
  '.pypirc',
  '.gem/credentials',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.terraform.d/credentials.tfrc.json',
  '.config/rclone',
  '.s3cfg',
  '.boto',
  '.oci',
  '.config/doctl',
  '.local/share/keyrings',
  '.pki',
  '.Xauthority',
  '.ICEauthority',
  // Ollama's own identity (signs pushes to ollama.com).
  '.ollama/id_ed25519',
  // What a login or the session runs.
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.zlogin',
  '.zlogout',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.logout',
  '.kshrc',
  '.mkshrc',
  '.config/fish',
  '.inputrc',
  '.pam_environment',
  '.config/environment.d',
  '.xinitrc',
  '.xprofile',
  '.xsession',
  '.xsessionrc',
  '.config/autostart',
  '.config/systemd/user',
  '.local/share/systemd/user',
  '.forward',
  '.rhosts',
  '.shosts',
  '.k5login',
  '.k5users',
  // Shell and client histories: passwords typed on command lines end up there.
  '.bash_history',
  '.zsh_history',
  '.local/share/fish/fish_history',
  '.psql_history',
  '.mysql_history',
  '.sqlite_history',
  '.python_history',
  '.node_repl_history',
  // The system's, for a root of / (as root, these are writable).
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/passwd',
  '/etc/group',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/etc/pam.d',
  '/etc/security',
  '/etc/profile',
  '/etc/profile.d',
  '/etc/bash.bashrc',
  '/etc/environment',
  '/etc/zsh',
  '/etc/csh.cshrc',
  '/etc/csh.login',
  '/etc/fish',
  '/etc/ld.so.preload',
  '/etc/crontab',
  '/etc/cron.d',
  '/etc/cron.hourly',
  '/etc/cron.daily',
  '/etc/cron.weekly',
  '/etc/cron.monthly',
  '/etc/anacrontab',
  '/var/spool/cron',
  '/etc/systemd',
  '/etc/xdg/autostart',
  '/etc/init.d',
  '/etc/rc.local',
];

/** The word that stands for the built-in list inside a configured list. */
export const DEFAULT_KEYWORD = 'default';

interface Rule {
  /** The rule as configured, for messages. */
  text: string;
  absolute: boolean;
  /** Lower-cased names. */
  names: string[];
}

export interface ProtectedMatch {
  /** The rule as configured, e.g. ".ssh". */
  rule: string;
  /** The place holds what the rule protects (a move or a delete of it would take the protection away). */
  holds: boolean;
}

const namesOf = (p: string) => p.split('/').filter((n) => n !== '' && n !== '.');

/** A compiled list of protected paths. */
export class ProtectedPaths {
  /** Relative rules by their first name, so a path of N names costs N look-ups, not N × rules. */
  private readonly relative = new Map<string, Rule[]>();
  private readonly absolute: Rule[] = [];

  /**
   * `configured`: the host's files_protected_paths as validated by the config loader (undefined: the
   * built-in list); the word "default" in it stands for the built-in list, "~/" in front is the same as
   * nothing.
   */
  constructor(configured: readonly string[] = [DEFAULT_KEYWORD]) {
    const rules = configured.flatMap((e) => (e === DEFAULT_KEYWORD ? DEFAULT_PROTECTED_PATHS : [e.replace(/^~\//, '')]));
    for (const text of new Set(rules)) {
      const rule: Rule = { text, absolute: text.startsWith('/'), names: namesOf(text.toLowerCase()) };
      if (rule.names.length === 0) continue;
      if (rule.absolute) this.absolute.push(rule);
      else {
        const list = this.relative.get(rule.names[0]) ?? [];
        list.push(rule);
        this.relative.set(rule.names[0], list);
      }
    }
  }

  get empty(): boolean {
    return this.relative.size === 0 && this.absolute.length === 0;
  }

  /**
   * The rule that protects the absolute path `p` (it is a protected place or inside one), else null. With
   * `orHolds`, also a rule the path would take away if moved or deleted: `p` is an ancestor of an absolute
   * rule's place, or ends with the first names of a relative rule (".config" for ".config/gh").
   */
  match(p: string, orHolds = false): ProtectedMatch | null {
    const names = namesOf(p.toLowerCase());
    for (let i = 0; i < names.length; i++) {
      for (const rule of this.relative.get(names[i]) ?? []) {
        let k = 1;
        while (k < rule.names.length && i + k < names.length && names[i + k] === rule.names[k]) k++;
        if (k === rule.names.length) return { rule: rule.text, holds: false };
        if (orHolds && i + k === names.length) return { rule: rule.text, holds: true };
      }
    }
    for (const rule of this.absolute) {
      let k = 0;
      while (k < rule.names.length && k < names.length && names[k] === rule.names[k]) k++;
      if (k === rule.names.length) return { rule: rule.text, holds: false };
      if (orHolds && k === names.length) return { rule: rule.text, holds: true };
    }
    return null;
  }
}
