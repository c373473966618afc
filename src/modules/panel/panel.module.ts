import { Module } from '@nestjs/common';
import { GpuModule } from '../gpu/gpu.module.js';
import { HostsModule } from '../hosts/hosts.module.js';
import { OllamaModule } from '../ollama/ollama.module.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardHub } from './dashboard-hub.js';
import { PanelSources } from './panel-data.js';
import { PanelController } from './panel.controller.js';
import { PanelService } from './panel.service.js';

@Module({
  imports: [HostsModule, GpuModule, OllamaModule],
  controllers: [PanelController, DashboardController],
  providers: [PanelSources, PanelService, DashboardHub],
})
export class PanelModule {}
