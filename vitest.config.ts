import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { LATEST_OPENAPI_FETCH } from './packages/runtime/test/openapi-fetch-latest/setup.ts';

// Workspace packages resolve to their TypeScript source through the
// `@portico/source` export condition (listed first in each package.json), so a
// test exercises the code in `src` as it is now, not the last `dist` build.
// Setting conditions replaces Vite's defaults, so those are repeated after it.
// The name is scoped: no consumer's bundler or runtime asks for it, and
// published packages keep resolving to `dist`.
const SOURCE_CONDITION = '@portico/source';
const conditions = [SOURCE_CONDITION, 'module', 'node', 'development|production'];

// Inline projects do not inherit the root config, so each one gets the conditions.
const project = (test: TestProjectInlineConfiguration['test'], with_ = conditions): TestProjectInlineConfiguration => ({
  resolve: { conditions: with_ },
  ssr: { resolve: { conditions: with_ } },
  test,
});
// Vitest hands the conditions to Node too, for the packages it leaves to
// Node: OpenTelemetry's API answers `module` with a build of extensionless
// imports only a bundler reads, which its SDK (CommonJS) then requires. The
// runtime's projects, which run the SDK, resolve without it.
const NODE_CONDITIONS = conditions.filter((condition) => condition !== 'module');

// One command runs every group; each project prints its own count.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      project({ name: 'specs', include: ['tools/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 }),
      project({ name: 'auth', include: ['packages/auth/test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 }),
      project({ name: 'runtime', include: ['packages/runtime/test/**/*.test.ts'], testTimeout: 60_000 }, NODE_CONDITIONS),
      // The runtime suite against the newest openapi-fetch on npm (its setup installs it), so an upgrade is a known quantity.
      project(
        {
          name: 'runtime-openapi-fetch-latest',
          include: ['packages/runtime/test/**/*.test.ts', 'packages/runtime/test/openapi-fetch-latest/*.check.ts'],
          globalSetup: ['packages/runtime/test/openapi-fetch-latest/setup.ts'],
          alias: [{ find: /^openapi-fetch$/, replacement: LATEST_OPENAPI_FETCH }],
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
        NODE_CONDITIONS,
      ),
      project({ name: 'redis', include: ['packages/redis/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 }),
      project({ name: 'wire', include: ['test/wire/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 }),
      // Generated inputs against every parser and boundary (fast-check, seeded); each file prints its case counts.
      project({ name: 'property', include: ['test/property/**/*.test.ts'], testTimeout: 60_000 }),
      project({
        name: 'release',
        include: ['tools/release/test/**/*.test.ts', 'test/install/**/*.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 600_000,
      }),
      // Five providers' published OpenAPI documents, each imported, built, type-checked and called through Prism.
      project({ name: 'published', include: ['test/published/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 }),
      project({ name: 'cli', include: ['packages/cli/test/**/*.test.ts'], testTimeout: 60_000 }),
      // @portico/mock: each provider package against startMock and MSW, and the mock against the private emulators.
      project({ name: 'mock', include: ['packages/mock/test/**/*.test.ts'], testTimeout: 60_000 }),
      // Real headless Chromium: the docs site, and `portico login` through oidc-provider's own pages.
      project({ name: 'browser', include: ['test/browser/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 300_000 }),
      project({
        name: 'ecosystem',
        include: ['test/ecosystem/**/*.test.ts'],
        globalSetup: ['test/ecosystem/setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 300_000,
      }),
      project({
        name: 'types',
        include: [],
        typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: 'test/types/tsconfig.json' },
      }),
    ],
  },
});
