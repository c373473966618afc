import { defineOperation, defineUiResource } from '../../operations/operation.js';
import { chartLibrary } from './chart-library.js';
import { ShowPanelInput, ShowPanelResult } from './dto/panel.dto.js';
import { PanelService } from './panel.service.js';
import { mcpAppPage } from './render/pages.js';

/** MCP Apps: the view that renders show_panel's results in clients that support the extension. */
export const panelView = defineUiResource({
  uri: 'ui://gpu-host-tools/panel.html',
  name: 'gpu-host-tools panel',
  description: 'Renders show_panel results: GPU charts, loaded models, job progress, disks.',
  mimeType: 'text/html;profile=mcp-app',
  text: () => mcpAppPage(chartLibrary()),
});

export const showPanel = defineOperation({
  id: 'show_panel',
  area: 'hosts',
  method: 'GET',
  path: '/panel',
  scope: 'read',
  summary: 'Show the user a visual panel',
  description: 'Shows the user a visual panel. Only when asked to see or show something: you get no numbers.',
  input: ShowPanelInput,
  output: ShowPanelResult,
  service: PanelService,
  idempotent: true,
  html: true,
  uiResourceUri: panelView.uri,
});
