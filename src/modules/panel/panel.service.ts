import { Injectable } from '@nestjs/common';
import type { PresentedResult } from '../../operations/operation.js';
import { HostRegistry } from '../../infra/host-registry.js';
import { chartLibrary } from './chart-library.js';
import type { PanelKind, ShowPanelInput, ShowPanelResult } from './dto/panel.dto.js';
import { PanelSources, type HostView } from './panel-data.js';
import { panelBody, panelPage } from './render/pages.js';
import { PANEL_PARTS } from './render/sections.js';
import { panelSummary } from './render/summary.js';

@Injectable()
export class PanelService {
  constructor(
    private readonly hosts: HostRegistry,
    private readonly sources: PanelSources,
  ) {}

  async show_panel(input: ShowPanelInput): Promise<PresentedResult> {
    const host = this.hosts.get(input.host);
    const panel: PanelKind = input.panel ?? 'overview';
    const view = await this.collect(host.name, panel);
    const now = Date.now();
    const body = panelBody(view, panel, now);
    const structured: ShowPanelResult = { panel, host: host.name, generated_at: new Date(now).toISOString(), html: body };
    return {
      // Built only when REST asks for it: MCP sends the text and the body, and would throw the page away.
      html: () => panelPage(view, panel, body, chartLibrary()),
      text: panelSummary(view, panel, now),
      structured: { ...structured },
    };
  }

  /** Reads what the panel shows, all at once; a part that fails shows its error, the others still show. */
  async collect(host: string, panel: PanelKind): Promise<HostView> {
    const parts = PANEL_PARTS[panel];
    const view: HostView = { name: host };
    await Promise.all([
      parts.includes('info') && this.sources.info(host).then((o) => (view.info = o)),
      parts.includes('gpus') &&
        this.sources.gpuStatus(host).then((o) => {
          view.gpu = o;
          view.charts = this.sources.charts(host);
        }),
      parts.includes('models') && this.sources.running(host).then((o) => (view.running = o)),
      parts.includes('jobs') && this.sources.jobs(host).then((j) => (view.jobs = j)),
      parts.includes('disks') && this.sources.resources(host).then((o) => (view.resources = o)),
    ]);
    return view;
  }
}
