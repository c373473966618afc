import { defineConfig } from 'vitest/config';

// Unit and infra tests import from src/ (pure code, no decorators needed). Anything that boots the
// NestJS application runs the built server from dist/ (see test/support/server.ts), because only
// the build (scripts/build.mjs) runs the @nestjs/swagger plugin that gives the DTOs their schemas.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
