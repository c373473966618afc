/** A configuration problem: the server prints the message (one line naming the key) and exits. */
export class ConfigError extends Error {}
