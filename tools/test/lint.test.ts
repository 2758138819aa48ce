import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse, stringify } from 'yaml';
import { listProviders, ROOT, specPath } from '../lib/specs.ts';

const run = promisify(execFile);
const redocly = join(ROOT, 'node_modules/.bin/redocly');
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };

async function lint(target: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(redocly, ['lint', target, '--format=stylish', '--config', join(ROOT, 'redocly.yaml')], {
      cwd: ROOT,
      env,
    });
    return { ok: true, output: stdout + stderr };
  } catch (e: any) {
    return { ok: false, output: `${e.stdout}${e.stderr}` };
  }
}

describe('spec lint (recommended-strict + repo rules)', () => {
  it.each(listProviders())('%s passes with no problems', async (slug) => {
    const { ok, output } = await lint(slug);
    expect(ok, output).toBe(true);
    expect(output).not.toMatch(/^\s*\d+:\d+\s+warning/m);
  });

  it('rejects an auth profile that does not match its JSON Schema, naming the field', async () => {
    const doc = parse(readFileSync(specPath('dapi'), 'utf8'));
    doc['x-portico-auth'].token.bodyFormat = 'xml';
    delete doc.paths['/auth/ExchangeToken'].post.security;
    const dir = mkdtempSync(join(tmpdir(), 'portico-lint-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'openapi.yaml');
    writeFileSync(file, stringify(doc));
    const { ok, output } = await lint(file);
    expect(ok).toBe(false);
    expect(output).toContain('x-portico-auth/token/bodyFormat');
    expect(output).toContain('portico/operation-security');
  });
});
