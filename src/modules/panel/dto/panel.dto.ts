import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { HostInput } from '../../../common/host-input.dto.js';

export const PANELS = ['overview', 'gpus', 'models', 'jobs'] as const;
export type PanelKind = (typeof PANELS)[number];

export class ShowPanelInput extends HostInput {
  /** Default overview. */
  @ApiPropertyOptional({ enum: PANELS })
  @IsOptional()
  @IsIn(PANELS, { message: `panel must be one of: ${PANELS.join(', ')}` })
  panel?: PanelKind;
}

/** The documented shape of the answer's structured part over MCP; REST answers the page itself. */
export class ShowPanelResult {
  /** Which panel. */
  panel: string;
  /** Configured host name. */
  host: string;
  /** When the data was read (ISO 8601). */
  generated_at: string;
  /** The panel's HTML body, drawn by the same renderer as the REST page and the dashboard. */
  html: string;
}
