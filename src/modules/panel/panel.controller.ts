import { Controller, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Operation } from '../../operations/operation.js';
import { ShowPanelInput } from './dto/panel.dto.js';
import { showPanel } from './panel.operations.js';
import { PanelService } from './panel.service.js';

@Controller()
export class PanelController {
  constructor(private readonly panel: PanelService) {}

  /** The page itself, inline: Open WebUI embeds a text/html answer with Content-Disposition: inline as a panel. */
  @Operation(showPanel)
  async show_panel(@Query() input: ShowPanelInput, @Res({ passthrough: true }) res: Response) {
    const presented = await this.panel.show_panel(input);
    res.type('text/html; charset=utf-8').set({ 'Content-Disposition': 'inline', 'Cache-Control': 'no-store' });
    return presented.html();
  }
}
