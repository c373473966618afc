/**
 * gpu_status and gpu_history per host: a reading from the sampler when it is fresh, else one exec (which
 * learns the driver's profile on the first call and after a driver change, see gpu-driver.ts), and the
 * sampler's life around the calls: started after a good reading, given back while calls queue for a
 * channel, restarted with backoff, stopped when idle. Kept whole past 300 lines: all of it is one state
 * machine over HostGpuState, and each transition reads and sets the same timers and sampler.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '../../common/errors.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig, GpuSettings } from '../../config/config.types.js';
import { HostRegistry, type Host } from '../../infra/host-registry.js';
import type { GpuHistoryInput, GpuHistoryResult, GpuStatusInput, GpuStatusResult } from './dto/gpu.dto.js';
import { fitGpuHistory, fitGpuStatus } from './gpu-answer-size.js';
import { HostGpuHistory, type GpuChartSeries } from './gpu-history.js';
import { learnDriverProfile, queryGpuStatus, type DriverProfile } from './gpu-driver.js';
import { GpuSampler } from './gpu-sampler.js';
import type { GpuStatus } from './nvidia-smi.js';

/** gpu_status answers from the sampler's newest reading when it is at most this old. */
export const SAMPLE_MAX_AGE_MS = 2_000;
/** How often a sampler that gave its channel to queued calls looks again whether they are done. */
const YIELD_RECHECK_MS = 1_000;
/** Pause before restarting a sampler that ended on its own (a drop, nvidia-smi failing), growing to 30 s. */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 30_000;

interface HostGpuState {
  profile?: DriverProfile;
  /** A learning in flight, shared by concurrent callers. */
  learning?: Promise<GpuStatus>;
  sampler?: GpuSampler;
  restartTimer?: NodeJS.Timeout;
  restartDelayMs: number;
  idleTimer?: NodeJS.Timeout;
  lastCall: number;
  history?: HostGpuHistory;
  /** Time of the newest reading fed to the history (readings from calls and the sampler interleave). */
  lastFed: number;
  /**
   * The answers built from the newest sample a call answered from: the whole reading, and the one cut to
   * the host's answer size (made on the first gpu_status call for this sample).
   */
  answered?: { reading: GpuStatus; profile?: DriverProfile; whole: GpuStatusResult; fitted?: GpuStatusResult };
}

@Injectable()
export class GpuService implements OnApplicationShutdown {
  private readonly log = new Logger('Gpu');
  private readonly state = new Map<string, HostGpuState>();
  private readonly settings: GpuSettings;
  /** The clock; tests of the service replace it. */
  now: () => number = Date.now;

  constructor(
    private readonly hosts: HostRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.settings = config.gpu;
  }

  async gpu_status(input: GpuStatusInput): Promise<GpuStatusResult> {
    return this.answer(input, true);
  }

  /** The whole reading, every GPU and process (model fit and panels); gpu_status cuts it to the answer size. */
  async status(input: GpuStatusInput): Promise<GpuStatusResult> {
    return this.answer(input, false);
  }

  private async answer(input: GpuStatusInput, fitted: boolean): Promise<GpuStatusResult> {
    const host = this.hosts.get(input.host);
    const st = this.touch(host);
    const fresh = this.freshSample(st);
    if (fresh) return this.answerFromSample(host, st, fresh, fitted);
    const status = await this.read(host);
    this.samplerAfterRead(host, st);
    const whole = this.result(host, status, this.now());
    return fitted ? fitGpuStatus(whole, host.config.results.default_max_bytes) : whole;
  }

  async gpu_history(input: GpuHistoryInput): Promise<GpuHistoryResult> {
    const host = this.hosts.get(input.host);
    const st = this.touch(host);
    // Without a sampler (or before its first reading) the history grows from calls: this one adds a reading.
    if (!this.freshSample(st)) {
      await this.read(host);
      this.samplerAfterRead(host, st);
    }
    const now = this.now();
    const windowMs = (input.window_minutes ?? 10) * 60_000;
    const window = this.historyOf(st).window(now, windowMs, input.gpu_index, input.points);
    const result = {
      host: host.name,
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      resolution_seconds: window.resolution_seconds,
      gpus: window.gpus,
      ...(input.points ? { series_step_seconds: windowMs / input.points / 1000 } : {}),
    };
    return fitGpuHistory(result, host.config.results.default_max_bytes);
  }

  /**
   * The reading /metrics shows: the sampler's when fresh, else a query (the caller caches it). A scrape
   * does not count as a call: it neither starts a sampler nor keeps one alive, unless history is 'always'.
   */
  async readingForMetrics(hostName: string): Promise<GpuStatusResult> {
    const host = this.hosts.get(hostName);
    const st = this.stateOf(host);
    const fresh = this.freshSample(st);
    if (fresh) return this.answerFromSample(host, st, fresh, false);
    const status = await this.read(host);
    if (this.settings.history === 'always') this.ensureSampler(host, st);
    return this.result(host, status, this.now());
  }

  /**
   * The history's readings as chart series (the dashboard and panels draw them). Reads what is kept and
   * does not count as a call: it neither starts a sampler nor keeps one alive.
   */
  gpu_chart(hostName: string, windowMs: number, bucketMs: number): GpuChartSeries[] {
    const host = this.hosts.get(hostName);
    return this.state.get(host.name)?.history?.chart(this.now(), windowMs, bucketMs) ?? [];
  }

  onApplicationShutdown(): void {
    for (const st of this.state.values()) this.stopSampler(st);
  }

  // -------------------------------------------------------------------------------------------------------

  private stateOf(host: Host): HostGpuState {
    let st = this.state.get(host.name);
    if (!st) {
      st = { restartDelayMs: RESTART_DELAY_MS, lastCall: 0, lastFed: -Infinity };
      this.state.set(host.name, st);
    }
    return st;
  }

  private touch(host: Host): HostGpuState {
    const st = this.stateOf(host);
    st.lastCall = this.now();
    return st;
  }

  private historyOf(st: HostGpuState): HostGpuHistory {
    return (st.history ??= new HostGpuHistory(this.settings.sample_interval_ms));
  }

  private feedHistory(st: HostGpuState, at: number, status: GpuStatus): void {
    if (at <= st.lastFed) return;
    st.lastFed = at;
    this.historyOf(st).add(at, status.gpus, status.processes);
  }

  private freshSample(st: HostGpuState): { at: number; reading: GpuStatus } | undefined {
    const latest = st.sampler?.latest;
    if (!latest || !st.profile || this.now() - latest.at > SAMPLE_MAX_AGE_MS) return undefined;
    if (latest.reading.query_driver_version !== st.profile.query_driver_version) return undefined;
    return latest;
  }

  private withVersions(st: HostGpuState, reading: GpuStatus): GpuStatus {
    return {
      ...reading,
      driver_version: st.profile?.driver_version ?? reading.driver_version,
      cuda_version: st.profile?.cuda_version ?? null,
    };
  }

  /**
   * A sample's answers are built and cut once (calls come faster than samples); each call stamps its own
   * collected_at.
   */
  private answerFromSample(host: Host, st: HostGpuState, fresh: { at: number; reading: GpuStatus }, fitted: boolean): GpuStatusResult {
    let built = st.answered;
    if (built?.reading !== fresh.reading || built.profile !== st.profile) {
      const whole = this.result(host, this.withVersions(st, fresh.reading), fresh.at);
      built = st.answered = { reading: fresh.reading, profile: st.profile, whole };
    }
    const answer = fitted ? (built.fitted ??= fitGpuStatus(built.whole, host.config.results.default_max_bytes)) : built.whole;
    return { ...answer, collected_at: new Date(this.now()).toISOString() };
  }

  private result(host: Host, status: GpuStatus, at: number): GpuStatusResult {
    const { query_driver_version: _, ...reading } = status;
    return { host: host.name, ...reading, collected_at: new Date(this.now()).toISOString(), sampled_at: new Date(at).toISOString() };
  }

  // ---- one-shot reading, with the driver's field list learned on the way -----------------------------------

  /**
   * A reading by one exec (as when there is no sampler). The first call per host, and the first after a
   * driver change, also learns which fields the driver takes and its driver and CUDA versions.
   */
  private async read(host: Host): Promise<GpuStatus> {
    const st = this.stateOf(host);
    let status: GpuStatus;
    if (!st.profile) status = await this.learn(host, st);
    else {
      const known = st.profile;
      status = await queryGpuStatus(host, known, false, (field) => this.fieldRefused(host, st, field));
      if (status.query_driver_version !== known.query_driver_version) {
        // The driver changed (upgrade and reboot): its field list and versions may have too.
        this.log.log(`GPU driver on host '${host.name}' changed from ${known.query_driver_version} to ${status.query_driver_version}`);
        if (st.profile === known) st.profile = undefined;
        this.stopSampler(st);
        status = await this.learn(host, st);
      }
    }
    const reading = this.withVersions(st, status);
    this.feedHistory(st, this.now(), reading);
    return reading;
  }

  /** Learns the driver's profile (sets st.profile) and returns the reading taken on the way. */
  private learn(host: Host, st: HostGpuState): Promise<GpuStatus> {
    st.learning ??= learnDriverProfile(host, (field) => this.fieldRefused(host, st, field))
      .then(({ profile, status }) => {
        st.profile = profile;
        return status;
      })
      .finally(() => (st.learning = undefined));
    return st.learning;
  }

  /** The driver refused a field: it is left out from now on, and the sampler restarts without it. */
  private fieldRefused(host: Host, st: HostGpuState, field: string): void {
    this.log.log(`nvidia-smi on host '${host.name}' does not know the field ${field}; it is reported as null there`);
    if (st.sampler) this.stopSampler(st);
  }

  // ---- the sampler ------------------------------------------------------------------------------------

  private samplingWanted(st: HostGpuState): boolean {
    return this.settings.history === 'always' || this.now() - st.lastCall < this.settings.sampler_idle_seconds * 1000;
  }

  /** A one-shot read just worked, so the host is reachable: start the sampler now, whatever backoff was pending. */
  private samplerAfterRead(host: Host, st: HostGpuState): void {
    if (st.restartTimer) clearTimeout(st.restartTimer);
    st.restartTimer = undefined;
    st.restartDelayMs = RESTART_DELAY_MS;
    this.ensureSampler(host, st);
  }

  private ensureSampler(host: Host, st: HostGpuState): void {
    if (!this.settings.sampler || st.sampler?.running || st.restartTimer || !st.profile) return;
    // With one channel the sampler would leave nothing for shell and file calls.
    if (host.config.transport === 'ssh' && (host.config.ssh?.max_channels ?? 8) < 2) return;
    if (host.transport.status().channelsWaiting > 0) return this.yieldChannel(host, st);
    const profile = st.profile;
    const sampler = new GpuSampler(host.transport, {
      hostName: host.name,
      nvidiaSmiPath: host.config.nvidia_smi_path,
      gpuFields: profile.gpuFields,
      intervalMs: this.settings.sample_interval_ms,
      now: () => this.now(),
      onReading: (at, reading) => {
        st.restartDelayMs = RESTART_DELAY_MS;
        if (host.transport.status().channelsWaiting > 0) {
          // Calls wait for a channel: give ours back (gpu_status queries directly meanwhile).
          sampler.stop();
          if (st.sampler === sampler) st.sampler = undefined;
          this.feedHistory(st, at, this.withVersions(st, reading));
          return this.yieldChannel(host, st);
        }
        if (reading.query_driver_version !== st.profile?.query_driver_version) {
          // A new driver: learn it again (a one-shot read does) and sample with its field list.
          sampler.stop();
          if (st.sampler === sampler) st.sampler = undefined;
          this.read(host).then(
            () => this.ensureSampler(host, st),
            () => this.scheduleRestart(host, st),
          );
          return;
        }
        this.feedHistory(st, at, this.withVersions(st, reading));
      },
      onEnd: (error) => {
        if (st.sampler === sampler) st.sampler = undefined;
        if (error !== undefined) {
          const why = error instanceof AppError ? error.message : 'the command ended';
          this.log.warn(`GPU sampler on host '${host.name}' stopped: ${why}`);
        }
        this.scheduleRestart(host, st);
      },
    });
    st.sampler = sampler;
    this.armIdleTimer(host, st);
  }

  /** Start the sampler again once no call waits for a channel (while sampling is still wanted). */
  private yieldChannel(host: Host, st: HostGpuState): void {
    this.restartAfter(host, st, () => YIELD_RECHECK_MS);
  }

  private scheduleRestart(host: Host, st: HostGpuState): void {
    this.restartAfter(host, st, () => {
      const delay = st.restartDelayMs;
      st.restartDelayMs = Math.min(delay * 2, RESTART_DELAY_MAX_MS);
      return delay;
    });
  }

  /** Start the sampler after `delay()` ms if sampling is still wanted then; one pending restart at a time. */
  private restartAfter(host: Host, st: HostGpuState, delay: () => number): void {
    if (st.restartTimer || !this.samplingWanted(st)) return;
    st.restartTimer = setTimeout(() => {
      st.restartTimer = undefined;
      if (this.samplingWanted(st)) this.ensureSampler(host, st);
    }, delay());
    st.restartTimer.unref();
  }

  private armIdleTimer(host: Host, st: HostGpuState): void {
    if (st.idleTimer || this.settings.history === 'always') return;
    const check = () => {
      st.idleTimer = undefined;
      if (!st.sampler) return;
      const left = st.lastCall + this.settings.sampler_idle_seconds * 1000 - this.now();
      if (left <= 0) {
        this.log.log(`GPU sampler on host '${host.name}' stopped after ${this.settings.sampler_idle_seconds} s without a GPU call`);
        this.stopSampler(st);
      } else {
        st.idleTimer = setTimeout(check, left);
        st.idleTimer.unref();
      }
    };
    st.idleTimer = setTimeout(check, this.settings.sampler_idle_seconds * 1000);
    st.idleTimer.unref();
  }

  private stopSampler(st: HostGpuState): void {
    st.sampler?.stop();
    st.sampler = undefined;
    if (st.restartTimer) clearTimeout(st.restartTimer);
    st.restartTimer = undefined;
    if (st.idleTimer) clearTimeout(st.idleTimer);
    st.idleTimer = undefined;
  }
}
