/**
 * Whole documents around the renderer's sections: the show_panel page (self-contained: every style and
 * script inline, and a Content-Security-Policy that forbids any request), the dashboard's shell, and the
 * MCP App view. Pure: the chart library's text is passed in.
 */
import type { PanelKind } from '../dto/panel.dto.js';
import type { HostView } from '../panel-data.js';
import { CHARTS_JS, MCP_APP_JS, PANEL_CSS } from './client.js';
import { esc } from './format.js';
import { PANEL_PARTS, PANEL_TITLES, renderHost } from './sections.js';

export interface ChartLibrary {
  js: string;
  css: string;
}

/** Inline scripts and styles only; no fetch, image, font or frame from anywhere. */
const SELF_CONTAINED_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** Text inside <script>: a "</script" in it would end the element early. */
const scriptText = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1');

function document(title: string, head: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title>${head}</head><body>${body}</body></html>`;
}

/** The body of a panel (also what the MCP App view receives in the tool result). */
export function panelBody(view: HostView, panel: PanelKind, now: number): string {
  return `<h1>${esc(PANEL_TITLES[panel])} · ${esc(view.name)}</h1>${renderHost(view, panel, now)}`;
}

/** The self-contained page around a panel's `body` (from panelBody), with the chart library when it draws charts. */
export function panelPage(view: HostView, panel: PanelKind, body: string, charts: ChartLibrary): string {
  const withCharts = PANEL_PARTS[panel].includes('gpus');
  const head =
    `<meta http-equiv="Content-Security-Policy" content="${SELF_CONTAINED_CSP}">` +
    `<style>${PANEL_CSS}${withCharts ? charts.css : ''}</style>`;
  const scripts = withCharts
    ? `<script>${scriptText(charts.js)}</script><script>${scriptText(CHARTS_JS)}window.ghtCharts.draw(document.body);</script>`
    : '';
  return document(`${PANEL_TITLES[panel]} · ${view.name}`, head, `${body}${scripts}`);
}

/** The dashboard's page: no data in it (it is public); the data comes over dashboard/events with the key. */
export function dashboardPage(): string {
  const head = `<link rel="stylesheet" href="dashboard/uplot.css"><style>${PANEL_CSS}
header.top{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:12px}
#key-form{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;margin-bottom:12px;max-width:520px}
#key-form input[type=password]{width:100%;padding:8px;margin:6px 0;font:inherit}
#key-form button,#forget{font:inherit;padding:6px 12px}</style>`;
  const body =
    `<header class="top"><h1>gpu-host-tools</h1><span id="conn" class="badge">connecting</span><button id="forget" type="button" hidden>Forget key</button></header>` +
    `<form id="key-form" hidden><label for="key"><strong>API key</strong> (a read-only key is enough; the page only reads)</label>` +
    `<input id="key" type="password" autocomplete="current-password" required><label><input id="remember" type="checkbox"> remember on this device</label> ` +
    `<button type="submit">Open</button><p id="key-note" class="error"></p></form>` +
    `<main id="live"><p class="muted">Loading…</p></main>` +
    `<script src="dashboard/uplot.js"></script><script src="dashboard/app.js"></script>`;
  return document('gpu-host-tools', head, body);
}

/** The MCP App view: the same styles and charts; its content arrives in each tool result. */
export function mcpAppPage(charts: ChartLibrary): string {
  const head = `<style>${PANEL_CSS}${charts.css}</style>`;
  const body =
    `<main id="live"><p class="muted">Waiting for the panel…</p></main>` +
    `<script>${scriptText(charts.js)}</script><script>${scriptText(CHARTS_JS)}${scriptText(MCP_APP_JS)}</script>`;
  return document('gpu-host-tools panel', head, body);
}
