import { defineConfig } from 'vitest/config';
import { LATEST_OPENAPI_FETCH } from './packages/runtime/test/openapi-fetch-latest/setup.ts';

// One command runs every group; each project prints its own count.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { name: 'specs', include: ['tools/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      { test: { name: 'auth', include: ['packages/auth/test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: 'runtime', include: ['packages/runtime/test/**/*.test.ts'], testTimeout: 60_000 } },
      // The runtime suite against the newest openapi-fetch on npm (its setup installs it), so an upgrade is a known quantity.
      {
        test: {
          name: 'runtime-openapi-fetch-latest',
          include: ['packages/runtime/test/**/*.test.ts', 'packages/runtime/test/openapi-fetch-latest/*.check.ts'],
          globalSetup: ['packages/runtime/test/openapi-fetch-latest/setup.ts'],
          alias: [{ find: /^openapi-fetch$/, replacement: LATEST_OPENAPI_FETCH }],
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
      { test: { name: 'redis', include: ['packages/redis/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 } },
      { test: { name: 'wire', include: ['test/wire/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      // Generated inputs against every parser and boundary (fast-check, seeded); each file prints its case counts.
      { test: { name: 'property', include: ['test/property/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'release',
          include: ['tools/release/test/**/*.test.ts', 'test/install/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      { test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'], testTimeout: 60_000 } },
      // Real headless Chromium: the docs site, and `portico login` through oidc-provider's own pages.
      { test: { name: 'browser', include: ['test/browser/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 300_000 } },
      {
        test: {
          name: 'ecosystem',
          include: ['test/ecosystem/**/*.test.ts'],
          globalSetup: ['test/ecosystem/setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: 'test/types/tsconfig.json' },
        },
      },
    ],
  },
});
