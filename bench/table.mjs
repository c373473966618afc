/**
 * The bench's table: printed after a run, and written into the README's Performance section between two
 * marker comments, so the README's numbers always come from one whole run and are never typed by hand.
 * Only the text between the markers changes. A partial run (BENCH_ONLY) prints its rows but leaves the
 * README alone: a table that mixes runs would compare numbers from different machine states.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const TABLE_START = '<!-- bench:table:start -->';
export const TABLE_END = '<!-- bench:table:end -->';
const COLUMNS = ['metric', 'measured', 'baseline', 'ratio', 'target', 'met'];

/** A Markdown table of the rows, columns padded to their widest cell (readable as plain text too). */
export function formatTable(rows) {
  const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(COLUMNS), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map((r) => line(COLUMNS.map((c) => r[c])))];
}

const oneDecimal = (x) => (Math.round(x * 10) / 10).toFixed(1);

/** "Latest run: date, machine, load average, Node, OpenSSH, ssh2" from results.json's description of the run. */
export function latestRunLine(results) {
  const m = results.machine;
  // machine.os ends in the kernel, e.g. "Debian GNU/Linux 12 (bookworm) (Linux 6.1.0 x64)"; the name is enough here.
  const osName = m.os.replace(/ \([^()]*\)$/, '');
  const loads = [results.load.loadavg_start[0], results.load.loadavg_end[0]];
  const [low, high] = [Math.min(...loads), Math.max(...loads)].map(oneDecimal);
  const load = low === high ? low : `${low}–${high}`;
  const openssh = /OpenSSH_([^\s,]+)/.exec(m.openssh ?? '')?.[1];
  const scale = results.config.scale === 1 ? '' : `, BENCH_SCALE ${results.config.scale}`;
  return (
    `Latest run: ${results.date.slice(0, 10)}, ${osName} on ${m.cores} ${m.cpu_model} cores (load average ${load} at start and end), ` +
    `Node ${m.node.replace(/^v/, '')}, OpenSSH ${openssh ?? 'unknown'}, ssh2 ${m.ssh2}${scale}.`
  );
}

/** The README text with the region between the markers replaced by this run's line and table. */
export function withTable(readme, results) {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start || readme.indexOf(TABLE_START, start + 1) >= 0 || readme.indexOf(TABLE_END, end + 1) >= 0) {
    throw new Error(`the README needs exactly one ${TABLE_START} followed by one ${TABLE_END}`);
  }
  const region = ['', latestRunLine(results), '', ...formatTable(results.rows), ''].join('\n');
  return readme.slice(0, start + TABLE_START.length) + '\n' + region + '\n' + readme.slice(end);
}

/**
 * Writes this run's table into the README at `file`, unless the run is partial. Returns what it did, in
 * words, for the run's last lines.
 */
export function writeReadmeTable(file, results, { partial }) {
  if (partial) return `${file} left as it is: a partial run (BENCH_ONLY) does not write the README's table`;
  writeFileSync(file, withTable(readFileSync(file, 'utf8'), results));
  return `table written to ${file}`;
}

/** What a run prints on stdout: what it ran on, the table, the notes, and how many targets were missed. */
export function printReport(results, resultsFile) {
  const m = results.machine;
  console.log(`\ngpu-host-tools bench, ${results.date}`);
  console.log(`${m.os}; ${m.cpu_model} × ${m.cores}; node ${m.node}; ${m.openssh}; ssh2 ${m.ssh2}`);
  console.log(
    `load average start ${results.load.loadavg_start.join(' ')}, end ${results.load.loadavg_end.join(' ')}; ${results.duration_s} s\n`,
  );
  for (const line of formatTable(results.rows)) console.log(line);
  for (const note of results.notes) console.log(`\nnote: ${JSON.stringify(note)}`);
  const missed = results.rows.filter((r) => r.met === 'NO').length;
  console.log(`\n${missed === 0 ? 'all targets met' : `${missed} target(s) missed`}; raw numbers in ${resultsFile}`);
}
