import { stripVTControlCharacters } from 'node:util';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServerLogger } from '../../src/common/server-logger.js';
import type { AppConfig, Scope } from '../../src/config/config.types.js';
import { AuditLog, type AuditEntry } from '../../src/operations/audit.js';

const entry = (operation: string): AuditEntry => ({
  operation,
  host: 'local',
  caller: { keyName: 'admin', scopes: new Set<Scope>(['read', 'write', 'shell']) },
  args: { command: 'true', content: 'secret file text' },
  outcome: 'ok',
  status: 200,
  duration_ms: 3.4,
  surface: 'rest',
});

/** Every write to stdout while the test runs, as text. */
function captureStdout() {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  return { writes, restore: () => spy.mockRestore() };
}

describe('AuditLog to the server log', () => {
  let out: ReturnType<typeof captureStdout>;
  beforeEach(() => {
    vi.useFakeTimers();
    Logger.overrideLogger(new ServerLogger('log'));
    out = captureStdout();
  });
  afterEach(() => {
    out.restore();
    vi.useRealTimers();
  });

  it('writes the lines of one flush period together, in one write, each with its own prefix', () => {
    const audit = new AuditLog({ audit_log: undefined } as unknown as AppConfig);
    audit.record(entry('shell_exec'));
    audit.record(entry('files_write'));
    vi.advanceTimersByTime(10);
    audit.record(entry('files_delete'));
    expect(out.writes).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(out.writes).toHaveLength(1);
    // Nest colours its prefix; the words are what matter here.
    const lines = stripVTControlCharacters(out.writes[0]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => /"operation":"(\w+)"/.exec(l)?.[1])).toEqual(['shell_exec', 'files_write', 'files_delete']);
    for (const line of lines) {
      expect(line).toMatch(/\[gpu-host-tools\] \d+ .* LOG .*\[Audit\] .*\{"time":/);
      expect(line).not.toContain('secret file text');
    }
  });

  it('writes what is pending at shutdown at once', async () => {
    const audit = new AuditLog({ audit_log: undefined } as unknown as AppConfig);
    audit.record(entry('shell_exec'));
    await audit.onApplicationShutdown();
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]).toContain('"operation":"shell_exec"');
    vi.advanceTimersByTime(100);
    expect(out.writes).toHaveLength(1);
  });

  it('prints nothing at LOG_LEVEL=warn', () => {
    Logger.overrideLogger(new ServerLogger('warn'));
    const audit = new AuditLog({ audit_log: undefined } as unknown as AppConfig);
    audit.record(entry('shell_exec'));
    audit.record(entry('shell_exec'));
    vi.advanceTimersByTime(100);
    expect(out.writes).toEqual([]);
  });
});
