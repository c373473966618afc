import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { LoggerService } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { ErrorFilter } from './common/error-filter.js';
import { hostOriginMiddleware } from './common/host-origin.js';
import { ServerLogger } from './common/server-logger.js';
import { InputPipe } from './common/validation.js';
import type { AppConfig } from './config/config.types.js';
import { buildOpenApi } from './openapi/openapi.js';
import { OpenApiDocuments } from './openapi/openapi.controller.js';
import { VERSION } from './version.js';

/** Largest accepted JSON body: a 10 MiB file as base64 plus room for the other fields. */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** Creates the application with every surface configured, not yet listening. */
export async function createApp(config: AppConfig, logger?: LoggerService | false): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: logger ?? new ServerLogger(config.log_level),
    bodyParser: false,
    abortOnError: false,
  });
  // First of all: a refused Host or Origin gets no further (body parsing, CORS, Swagger UI, routes, 404s).
  app.use(hostOriginMiddleware(config));
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  app.disable('x-powered-by');
  // No ETag: answers are live readings, and hashing a 350 KB files_read page costs time for nothing.
  app.set('etag', false);
  app.useGlobalFilters(new ErrorFilter());
  app.useGlobalPipes(new InputPipe());
  if (config.cors_origins.length) {
    app.enableCors({
      origin: config.cors_origins,
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Session-Id', 'Mcp-Session-Id', 'Mcp-Protocol-Version'],
      // Content-Disposition: a browser-called tool server's client (Open WebUI) reads it to embed show_panel's page.
      exposedHeaders: ['Mcp-Session-Id', 'Content-Disposition'],
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      maxAge: 600,
    });
  }
  // The document and Swagger UI are set up before init: routes added after init land behind
  // Nest's not-found handler.
  const doc = buildOpenApi(
    app,
    VERSION,
    config.hosts.map((h) => h.name),
    config.default_host,
  );
  app.get(OpenApiDocuments).set(doc);
  SwaggerModule.setup('docs', app, doc, {
    raw: false,
    customSiteTitle: 'gpu-host-tools',
    swaggerOptions: { persistAuthorization: true, displayOperationId: true, tryItOutEnabled: false },
  });
  await app.init();
  return app;
}
