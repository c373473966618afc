/**
 * gpu_status over HTTP and MCP against /healthz (the same server's cheapest round trip), a raw ssh2 exec of
 * the same command on a warm connection (no-delay and ssh2's default socket) and a new connection per
 * call; the age of the sampler's reading in each answer; and the memory of 24 hours of history for 8 GPUs.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { buildGpuStatusCommand } from '../../src/modules/gpu/nvidia-smi.ts';
import { check } from '../lib/log.mjs';
import { connectPerCall, rawRun } from '../lib/probes.mjs';
import { MiB, mb, ms, ratioRow, row } from '../lib/rows.mjs';
import { latency } from '../lib/rounds.mjs';
import { stats, statsByMethod } from '../lib/stats.mjs';

const execFileP = promisify(execFile);

// The command the server runs for gpu_status once it has read the driver and CUDA versions (it caches
// them per host): the baselines do exactly the same remote work.
const GPU_CMD = buildGpuStatusCommand('nvidia-smi', { version: false });
const gpuOk = (out) => out.includes('@@gpu-host-tools:end:apps:0@@');

/** gpu_status answers from the sampler's reading; its age (collected_at - sampled_at) goes to `ages`. */
function probes(ctx, ages) {
  const { request } = ctx.http;
  return {
    httpGpu: async () => {
      const r = await request(ctx.server.url, 'GET', '/gpu/status');
      check(r.status === 200 && r.body?.gpus?.length > 0, `gpu_status over HTTP answered ${r.status} ${r.text.slice(0, 300)}`);
      ages.push(Date.parse(r.body.collected_at) - Date.parse(r.body.sampled_at));
      return r.ms;
    },
    httpHealthz: async () => {
      const r = await request(ctx.server.url, 'GET', '/healthz');
      check(r.status === 200, `/healthz answered ${r.status}`);
      return r.ms;
    },
    mcpGpu: async () => {
      const t = performance.now();
      const r = await ctx.mcp.client.callTool({ name: 'gpu_status', arguments: {} });
      const took = performance.now() - t;
      check(!r.isError && JSON.parse(r.content[0].text).gpus.length > 0, `gpu_status over MCP: ${JSON.stringify(r).slice(0, 300)}`);
      return took;
    },
    rawNoDelay: rawRun(ctx.raw.noDelay, GPU_CMD, gpuOk),
    rawDefault: rawRun(ctx.raw.defaultSocket, GPU_CMD, gpuOk),
  };
}

/**
 * HostGpuHistory (from src/, through bench/ts-hooks.mjs) filled with 24 hours of 1-s readings for 8 GPUs
 * (two processes each) in a fresh node with --expose-gc; heap and array buffers measured after full
 * collections.
 */
async function measureHistoryMemory() {
  const hooksUrl = new URL('../ts-hooks.mjs', import.meta.url).href;
  const moduleUrl = new URL('../../src/modules/gpu/gpu-history.ts', import.meta.url).href;
  const script = `
    import { register } from 'node:module';
    register(${JSON.stringify(hooksUrl)});
    const { HostGpuHistory } = await import(${JSON.stringify(moduleUrl)});
    const gpu = (i) => ({ index: i, uuid: 'GPU-' + i, name: 'bench', utilization_percent: 50, memory_used_mb: 1000,
      memory_total_mb: 11264, temperature_celsius: 60, power_draw_watts: 200 });
    const gpus = Array.from({ length: 8 }, (_, i) => gpu(i));
    gc(); const before = process.memoryUsage();
    const h = new HostGpuHistory(1000);
    const t0 = Date.UTC(2026, 0, 1);
    for (let s = 0; s < 24 * 3600; s++) {
      const procs = gpus.flatMap((g) => [
        { gpu_index: g.index, gpu_uuid: g.uuid, pid: 1000 + (s % 7), process_name: 'ollama', used_memory_mb: 100 + (s % 50) },
        { gpu_index: g.index, gpu_uuid: g.uuid, pid: 2000 + (s % 11), process_name: 'python3', used_memory_mb: 50 },
      ]);
      h.add(t0 + s * 1000, gpus, procs);
    }
    gc(); const after = process.memoryUsage();
    if (h.window(t0 + 24 * 3600_000 - 1000, 1440 * 60_000).gpus.length !== 8) throw new Error('history lost a GPU');
    const heap = after.heapUsed - before.heapUsed, buffers = after.arrayBuffers - before.arrayBuffers;
    console.log(JSON.stringify({ bytes: heap + buffers, heap, array_buffers: buffers }));
  `;
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--input-type=module', '-e', script]);
  return JSON.parse(stdout.trim().split('\n').pop());
}

export const gpu = {
  section: 'gpu',

  async warmUp(ctx, i) {
    const p = probes(ctx, []); // the warm-up's first answers come before the sampler's first reading
    await p.httpGpu();
    await p.mcpGpu();
    await p.rawNoDelay();
    if (i % 4 === 0) await p.rawDefault();
  },

  async run(ctx) {
    const sampleAges = [];
    const p = probes(ctx, sampleAges);
    const gpuRun = await latency(
      [
        ['http', p.httpGpu],
        ['healthz', p.httpHealthz],
        ['mcp', p.mcpGpu],
        ['raw_nodelay', p.rawNoDelay],
        ['raw_default', p.rawDefault, 3],
        ['connect_per_call', connectPerCall(ctx, GPU_CMD), 4],
      ],
      { min: ctx.n(40, 12), max: ctx.n(150, 20), budgetMs: 35_000 * ctx.scale },
    );
    const gs = statsByMethod(gpuRun.samples);
    const ages = stats(sampleAges);
    ctx.log(`gpu_status sample age ms: p50 ${ages.p50}, max ${ages.max}`);

    const hist = await measureHistoryMemory();
    ctx.log(`gpu_history memory for 8 GPUs x 24 h: ${(hist.bytes / MiB).toFixed(2)} MiB`);
    ctx.log(
      `gpu_status p50 ms (${gpuRun.rounds} rounds): ${Object.entries(gs)
        .map(([k, v]) => `${k} ${v.p50}`)
        .join(', ')}`,
    );

    const raw = 'raw warm no-delay';
    const speedup = gs.connect_per_call.p50 / gs.http.p50;
    return {
      rows: [
        ratioRow('gpu_status HTTP p50 vs /healthz', gs.http.p50, '/healthz', gs.healthz.p50, '≤ 1.5×', 1.5),
        ratioRow('gpu_status HTTP p50 vs raw exec', gs.http.p50, raw, gs.raw_nodelay.p50, '— (info)'),
        ratioRow('gpu_status HTTP p95', gs.http.p95, raw, gs.raw_nodelay.p95, '—'),
        row(
          'gpu_status HTTP p50 vs connect-per-call',
          ms(gs.http.p50),
          `connect-per-call ${ms(gs.connect_per_call.p50)}`,
          speedup,
          '≥ 20× faster',
          speedup >= 20,
        ),
        row('gpu_status sample age (max over the run)', ms(ages.max), `p50 ${ms(ages.p50)}`, null, '≤ 2000 ms', ages.max <= 2000),
        row(
          'gpu_history: 24 h for 8 GPUs, memory',
          mb(hist.bytes),
          `typed arrays ${mb(hist.array_buffers)}`,
          null,
          '≤ 8 MB',
          hist.bytes <= 8e6,
        ),
        ratioRow('gpu_status MCP p50', gs.mcp.p50, raw, gs.raw_nodelay.p50, '—'),
        ratioRow('gpu_status MCP p95', gs.mcp.p95, raw, gs.raw_nodelay.p95, '—'),
        ratioRow('gpu_status raw warm default socket p50', gs.raw_default.p50, raw, gs.raw_nodelay.p50, '—'),
      ],
      raw: { gpu_status_ms: gpuRun.samples, gpu_sample_age_ms: sampleAges },
      summary: { gpu_status: gs, gpu_sample_age: ages, gpu_history_memory: hist },
    };
  },
};
