/**
 * files_read of a 1 KiB file and of pages at the end of a 1 GiB file (binary and text) against raw SFTP
 * doing the same reads, the server's RSS over 50 such reads in a row, and files_write of 10 MiB against
 * raw SFTP (ssh2's writeFile, and the same steps files_write takes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { check } from '../lib/log.mjs';
import { rssBytes } from '../lib/machine.mjs';
import { rawSftp } from '../lib/raw-ssh.mjs';
import { GiB, MiB, mb, ratioRow, row } from '../lib/rows.mjs';
import { latency } from '../lib/rounds.mjs';
import { statsByMethod } from '../lib/stats.mjs';

const tailOffset = GiB - 256 * 1024;

async function measureReads(ctx, sftp) {
  const httpRead = (query, length) => async () => {
    const r = await ctx.http.request(ctx.server.url, 'GET', '/files/read', { query });
    check(r.status === 200 && r.body.length_bytes === length, `files_read ${JSON.stringify(query)}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.ms;
  };
  const rawRead = (file, offset, length) => async () => {
    // open + fstat + read (64 KiB requests, all in flight) + close: what files_read does, minus the rest.
    const t = performance.now();
    const [handle] = await sftp.call('open', file, 'r');
    await sftp.call('fstat', handle);
    const buf = Buffer.allocUnsafe(length);
    const parts = [];
    for (let off = 0; off < length; off += 65536)
      parts.push(sftp.call('read', handle, buf, off, Math.min(65536, length - off), offset + off));
    const got = (await Promise.all(parts)).reduce((a, [bytes]) => a + bytes, 0);
    await sftp.call('close', handle);
    const took = performance.now() - t;
    check(got === length, `raw SFTP read ${got} of ${length}`);
    return took;
  };
  const methods = [
    ['small_1k', httpRead({ path: 'small.txt' }, 1024)],
    ['tail_256k_of_1g', httpRead({ path: 'big.bin', offset: tailOffset, max_bytes: 256 * 1024 }, 256 * 1024)],
    ['tail_1k_of_1g', httpRead({ path: 'big.bin', offset: GiB - 1024, max_bytes: 1024 }, 1024)],
    ['text_tail_256k_of_1g', httpRead({ path: 'big-log.txt', offset: tailOffset, max_bytes: 256 * 1024 }, 256 * 1024)],
    ['raw_sftp_small_1k', rawRead(path.join(ctx.files.root, 'small.txt'), 0, 1024)],
    ['raw_sftp_tail_256k_of_1g', rawRead(ctx.files.big, tailOffset, 256 * 1024)],
  ];
  ctx.http.dropIdleSockets();
  for (let i = 0; i < 5; i++) for (const [, fn] of methods) await fn();
  // Server memory while it serves 50 reads of the last 256 KiB of the 1 GiB file in a row.
  const pid = ctx.server.pid;
  const rssBefore = rssBytes(pid);
  let rssMax = rssBefore;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(pid))), 20);
  for (let i = 0; i < 50; i++) await methods[1][1]();
  clearInterval(rssTimer);
  const readRss = { before: rssBefore, max: rssMax, growth: rssMax - rssBefore };
  const run = await latency(methods, { min: ctx.n(40, 15), max: ctx.n(80, 15), budgetMs: 10_000 * ctx.scale });
  return { readRss, samples: run.samples };
}

async function measureWrites(ctx, sftp) {
  const payload = randomBytes(10 * MiB);
  const writeBody = JSON.stringify({ path: 'written.bin', content: payload.toString('base64'), encoding: 'base64' });
  const httpWrite = async () => {
    const r = await ctx.http.request(ctx.server.url, 'POST', '/files/write', { body: writeBody });
    check(r.status === 200 || r.status === 201, `files_write: ${r.status} ${r.text.slice(0, 300)}`);
    check(r.body.size_bytes === payload.length, 'files_write size');
    return r.ms;
  };
  const rawWrite = async () => {
    // ssh2's writeFile: open, write (ssh2 splits it by the server's write limit), close.
    const t = performance.now();
    await sftp.call('writeFile', path.join(ctx.files.root, 'raw-written.bin'), payload);
    return performance.now() - t;
  };
  const rawWriteSameSteps = async () => {
    // What files_write does over SFTP: temp file, 64 KiB writes 8 in flight, fsync, close, rename.
    const t = performance.now();
    const temp = path.join(ctx.files.root, `.raw-${randomBytes(4).toString('hex')}.tmp`);
    const [handle] = await sftp.call('open', temp, 'wx');
    let next = 0;
    const worker = async () => {
      while (next < payload.length) {
        const off = next;
        next += 65536;
        await sftp.call('write', handle, payload, off, Math.min(65536, payload.length - off), off);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await sftp.call('ext_openssh_fsync', handle);
    await sftp.call('close', handle);
    await sftp.call('ext_openssh_rename', temp, path.join(ctx.files.root, 'raw-written-2.bin'));
    return performance.now() - t;
  };
  const methods = [
    ['http', httpWrite],
    ['raw_sftp', rawWrite],
    ['raw_sftp_same_steps', rawWriteSameSteps],
  ];
  ctx.http.dropIdleSockets();
  for (const [, fn] of methods) await fn();
  const run = await latency(methods, { min: ctx.n(5, 3), max: ctx.n(10, 3), budgetMs: 10_000 * ctx.scale });
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  check(sha(readFileSync(path.join(ctx.files.root, 'written.bin'))) === sha(payload), 'written file content');
  return run.samples;
}

export const files = {
  section: 'files',

  async run(ctx) {
    const sftp = await rawSftp(ctx.raw.noDelay);
    let reads, writeSamples;
    try {
      reads = await measureReads(ctx, sftp);
      writeSamples = await measureWrites(ctx, sftp);
    } finally {
      sftp.end();
    }
    const rs = statsByMethod(reads.samples);
    ctx.log(
      `files_read p50: 1 KiB ${rs.small_1k.p50} ms, 256 KiB tail of 1 GiB ${rs.tail_256k_of_1g.p50} ms, 1 KiB tail of 1 GiB ${rs.tail_1k_of_1g.p50} ms`,
    );
    const ws = statsByMethod(writeSamples);
    ctx.log(
      `files_write 10 MiB p50: http ${ws.http.p50} ms, raw SFTP ${ws.raw_sftp.p50} ms, raw same steps ${ws.raw_sftp_same_steps.p50} ms`,
    );

    const small = '1 KiB file';
    return {
      rows: [
        row('files_read 256 KiB tail of 1 GiB x50: server RSS growth', mb(reads.readRss.growth), '—', null, '— (info)', null),
        ratioRow('files_read 256 KiB tail of 1 GiB p50', rs.tail_256k_of_1g.p50, small, rs.small_1k.p50, '≤ 2×', 2),
        ratioRow('files_read 256 KiB text tail of 1 GiB p50', rs.text_tail_256k_of_1g.p50, small, rs.small_1k.p50, '— (info)'),
        ratioRow('files_read 1 KiB tail of 1 GiB p50', rs.tail_1k_of_1g.p50, small, rs.small_1k.p50, '— (info)'),
        ratioRow(
          'raw SFTP read 256 KiB tail of 1 GiB p50',
          rs.raw_sftp_tail_256k_of_1g.p50,
          'raw SFTP 1 KiB',
          rs.raw_sftp_small_1k.p50,
          '— (info)',
        ),
        ratioRow('files_write 10 MiB p50', ws.http.p50, 'raw SFTP writeFile', ws.raw_sftp.p50, '— (report)'),
        ratioRow('files_write 10 MiB p50 vs same SFTP steps', ws.http.p50, 'raw tmp+fsync+rename', ws.raw_sftp_same_steps.p50, '— (info)'),
      ],
      raw: { files_read_ms: reads.samples, files_write_ms: writeSamples },
      summary: { files_read_rss: reads.readRss, files_read: rs, files_write: ws },
    };
  },
};
