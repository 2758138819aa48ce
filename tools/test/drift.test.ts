import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listProviders, ROOT } from '../lib/specs.ts';

const run = promisify(execFile);
const tsx = join(ROOT, 'node_modules/.bin/tsx');

async function check(root: string, slugs: string[]) {
  try {
    const r = await run(tsx, [join(ROOT, 'tools/generate.ts'), '--check', ...slugs], { env: { ...process.env, PORTICO_ROOT: root } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: any) {
    return { code: e.code as number, out: `${e.stdout}${e.stderr}` };
  }
}

describe('generated code matches the specs (drift check)', () => {
  it.each(listProviders())('%s is up to date', async (slug) => {
    const { code, out } = await check(ROOT, [slug]);
    expect(code, out).toBe(0);
  });

  it('names the stale provider, and only it, when one spec changes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'portico-drift-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    for (const slug of ['dapi', 'fdx']) {
      cpSync(join(ROOT, 'specs', slug), join(tmp, 'specs', slug), { recursive: true });
      mkdirSync(join(tmp, 'packages', slug), { recursive: true });
      for (const f of ['package.json', 'README.md']) cpSync(join(ROOT, 'packages', slug, f), join(tmp, 'packages', slug, f));
      cpSync(join(ROOT, 'packages', slug, 'src'), join(tmp, 'packages', slug, 'src'), { recursive: true });
    }
    const spec = join(tmp, 'specs/dapi/openapi.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('/data/identity/get:', '/data/identity/fetch:'));
    const { code, out } = await check(tmp, ['dapi', 'fdx']);
    expect(code).toBe(1);
    expect(out).toMatch(/@portico\/dapi is stale: /);
    expect(out).toContain('@portico/fdx: up to date');
  });
});
