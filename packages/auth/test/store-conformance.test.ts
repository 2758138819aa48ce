import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from '../src/index.js';
import { describeTokenStore } from '../src/testing/index.js';

describeTokenStore('MemoryTokenStore', { create: () => new MemoryTokenStore() }, { describe, it });
describeTokenStore(
  'MemoryTokenStore with a 100 ms lease',
  { create: () => new MemoryTokenStore({ leaseMs: 100 }), lease: { ms: 100 } },
  { describe, it },
);

it('runs under node:test as well: the suite depends on no runner', async () => {
  const { execFile } = await import('node:child_process');
  const fixture = new URL('./fixtures/node-test-conformance.ts', import.meta.url).pathname;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', fixture],
      { timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout)),
    ),
  );
  expect(out).toMatch(/# pass 10\b/);
  expect(out).toMatch(/# fail 0\b/);
});
