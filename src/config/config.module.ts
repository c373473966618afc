import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './config.types.js';

/** Injection token of the resolved AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Provides the configuration loaded once by the CLI, so tests and the CLI can pass their own. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
