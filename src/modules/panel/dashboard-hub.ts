import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { HostRegistry } from '../../infra/host-registry.js';
import { PanelSources, type HostView } from './panel-data.js';
import { renderDashboardBody } from './render/sections.js';

/** How often the dashboard's stream looks for news: half the sampler's default interval, so it lags it by at most that plus one read. */
export const TICK_MS = 500;

/**
 * How often each source is read again (success, failure): a df or a connection probe each tick would be
 * waste. The jobs are the server's own memory, read every tick; that read also moves the page's clock.
 * A failing source is retried after its failure period, not each tick.
 */
const PERIODS = {
  jobs: [0, 5_000],
  gpu: [0, 5_000],
  info: [10_000, 10_000],
  running: [5_000, 10_000],
  resources: [30_000, 30_000],
} as const;
type Source = keyof typeof PERIODS;

interface HostState {
  view: HostView;
  due: Record<Source, number>;
  busy: Set<Source>;
}

export type DashboardListener = (update: { generated_at: string; html: string }) => void;

/**
 * One poller for every open dashboard: while at least one is connected it reads each host's sources on
 * their own cadence (through PanelSources: the operations' service methods), renders the body with the
 * panel renderer and hands it to every listener when it changed. Reading gpu_status every tick also
 * keeps the host's GPU sampler running while someone watches. With no listener nothing runs.
 */
@Injectable()
export class DashboardHub implements OnApplicationShutdown {
  private readonly log = new Logger('Dashboard');
  private readonly listeners = new Set<DashboardListener>();
  private readonly state = new Map<string, HostState>();
  private timer?: NodeJS.Timeout;
  private last?: { generated_at: string; html: string };

  constructor(
    private readonly hosts: HostRegistry,
    private readonly sources: PanelSources,
  ) {}

  /** Adds a listener (it gets the latest body at once, when there is one); returns the unsubscribe. */
  subscribe(listener: DashboardListener): () => void {
    this.listeners.add(listener);
    if (this.last) listener(this.last);
    if (!this.timer) {
      this.tick();
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  onApplicationShutdown(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private tick(): void {
    const now = Date.now();
    for (const host of this.hosts.all()) {
      let st = this.state.get(host.name);
      if (!st) {
        st = { view: { name: host.name }, due: { jobs: 0, gpu: 0, info: 0, running: 0, resources: 0 }, busy: new Set() };
        this.state.set(host.name, st);
      }
      const view = st.view;
      this.refresh(st, 'jobs', now, () => this.sources.jobs(host.name).then((o) => ((view.jobs = o), o.ok)));
      this.refresh(st, 'info', now, () => this.sources.info(host.name).then((o) => ((view.info = o), o.ok)));
      // The charts move only with a GPU reading: drawn from the history when one arrives, not on every publish.
      this.refresh(st, 'gpu', now, () =>
        this.sources.gpuStatus(host.name).then((o) => {
          view.gpu = o;
          view.charts = this.sources.charts(host.name);
          return o.ok;
        }),
      );
      this.refresh(st, 'running', now, () => this.sources.running(host.name).then((o) => ((view.running = o), o.ok)));
      this.refresh(st, 'resources', now, () => this.sources.resources(host.name).then((o) => ((view.resources = o), o.ok)));
    }
  }

  /**
   * Starts one read of a source when it is due and none is in flight, and publishes when it ends. The
   * sources answer an Outcome and do not reject; one that throws anyway (a bug) is logged and tried again
   * after its failure period, and the page goes on updating with what the others read. Nothing here may
   * become an unhandled rejection or an exception in the timer: the server runs for months.
   */
  private refresh(st: HostState, source: Source, now: number, read: () => Promise<boolean>): void {
    if (st.busy.has(source) || now < st.due[source]) return;
    st.busy.add(source);
    void Promise.resolve()
      .then(read)
      .catch((err: unknown) => this.failed(`reading ${source} of host '${st.view.name}'`, err))
      .then((ok) => {
        st.busy.delete(source);
        st.due[source] = Date.now() + PERIODS[source][ok ? 0 : 1];
        // Shown at once, not at the next tick: a new GPU reading reaches the page within one read.
        this.publish();
      })
      .catch((err: unknown) => this.failed('publishing the dashboard', err));
  }

  /** Logs a bug's message (no stack: it can carry paths and arguments). */
  private failed(what: string, err: unknown): false {
    this.log.error(`${what} failed: ${(err as Error)?.message ?? String(err)}`);
    return false;
  }

  private publish(): void {
    if (this.listeners.size === 0) return;
    const now = Date.now();
    const views = this.hosts.all().flatMap((h) => {
      const st = this.state.get(h.name);
      return st ? [st.view] : [];
    });
    const html = renderDashboardBody(views, now);
    if (html === this.last?.html) return;
    this.last = { generated_at: new Date(now).toISOString(), html };
    for (const listener of this.listeners) listener(this.last);
  }
}
