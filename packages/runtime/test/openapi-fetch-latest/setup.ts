// The runtime suite against the newest openapi-fetch on npm, so an upgrade is
// a known quantity: this installs it into node_modules/.cache (bounded by a
// timeout), and vitest.config.ts's runtime-openapi-fetch-latest project
// aliases `openapi-fetch` to it for everything the suite loads.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const CACHE = fileURLToPath(new URL('../../../../node_modules/.cache/openapi-fetch-latest', import.meta.url));
export const LATEST_OPENAPI_FETCH = join(CACHE, 'node_modules', 'openapi-fetch');

declare module 'vitest' {
  export interface ProvidedContext {
    openapiFetchLatest: { version: string; dir: string };
  }
}

export default function setup(project: TestProject): void {
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(join(CACHE, 'package.json'), '{ "private": true }\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', 'openapi-fetch@latest'], {
    cwd: CACHE,
    stdio: 'inherit',
    timeout: 180_000,
  });
  const { version } = JSON.parse(readFileSync(join(LATEST_OPENAPI_FETCH, 'package.json'), 'utf8')) as { version: string };
  console.log(`runtime suite against openapi-fetch ${version} (newest on npm)`);
  project.provide('openapiFetchLatest', { version, dir: LATEST_OPENAPI_FETCH });
}
