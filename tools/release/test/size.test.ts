// size-limit budgets (.size-limit.js) on the built provider packages.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the size-limit config is plain JavaScript.
import { budgets } from '../../../.size-limit.js';
import { listProviders, ROOT } from '../../lib/specs.ts';

const run = promisify(execFile);

interface Result {
  name: string;
  size: number;
  sizeLimit: number;
  passed: boolean;
}

async function sizeLimit(...args: string[]): Promise<{ code: number; results: Result[] }> {
  const bin = join(ROOT, 'node_modules/.bin/size-limit');
  try {
    const { stdout } = await run(bin, ['--json', ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, results: JSON.parse(stdout) };
  } catch (e: any) {
    return { code: e.code ?? 1, results: e.stdout ? JSON.parse(e.stdout) : [] };
  }
}

describe('size budgets (min+gz, runtime, auth and openapi-fetch included)', () => {
  it('every provider package has a budget', () => {
    expect(Object.keys(budgets).sort()).toEqual(listProviders());
  });

  it('every provider package is within its budget', async () => {
    const { code, results } = await sizeLimit();
    for (const r of results) console.log(`size: ${r.name} ${r.size} B of ${r.sizeLimit} B (${((100 * r.size) / r.sizeLimit).toFixed(0)}%)`);
    expect(results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.size} B > ${r.sizeLimit} B`)).toEqual([]);
    expect(results).toHaveLength(listProviders().length);
    expect(code).toBe(0);
  });

  it('fails a package above its budget', async () => {
    const { code, results } = await sizeLimit('--limit', '10 kB');
    expect(code).toBe(1);
    // Every package measured and failed: an empty list (size-limit broke, nothing built) proves nothing.
    expect(results.map((r) => r.name).sort()).toEqual(listProviders().map((slug) => `@portico/${slug}`));
    expect(results.filter((r) => r.passed || r.size <= 10_000)).toEqual([]);
  });
});
