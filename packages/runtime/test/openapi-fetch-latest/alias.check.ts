// Proof that the runtime-openapi-fetch-latest project runs the suite against
// the openapi-fetch its setup installed, not the workspace's pinned one.
import createFetchClient from 'openapi-fetch';
import { expect, inject, it } from 'vitest';

it('openapi-fetch, as the runtime imports it, is the newest one installed', async () => {
  const { dir } = inject('openapiFetchLatest');
  const installed = (await import(/* @vite-ignore */ dir)) as { default: unknown };
  expect(createFetchClient).toBe(installed.default);
});
