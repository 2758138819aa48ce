import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listProviders, loadSpec, operations, packageName, ROOT } from '../lib/specs.ts';

const site = mkdtempSync(join(tmpdir(), 'portico-site-'));

describe('API reference site', () => {
  beforeAll(async () => {
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'tools/docs.ts'), '--out', site], { cwd: ROOT });
  }, 180_000);
  afterAll(() => rmSync(site, { recursive: true, force: true }));

  it('has an index with each package: install command, quick start, version, changelog and reference', () => {
    const index = readFileSync(join(site, 'index.html'), 'utf8');
    for (const slug of listProviders()) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', slug, 'package.json'), 'utf8'));
      expect(index).toContain(`npm install ${packageName(slug)}`);
      expect(index).toContain(`import { createClient`);
      expect(index).toContain(`href="./${slug}/index.html"`);
      expect(index).toContain(`href="./${slug}/changelog.html"`);
      expect(index).toContain(`<span class="version">${pkg.version}</span>`);
      expect(existsSync(join(site, slug, 'changelog.html'))).toBe(true);
    }
    expect(index).not.toMatch(/<script|<link|<img|src=/);
  });

  it.each(listProviders())('%s page exists, names every operation and loads Redoc locally', (slug) => {
    const page = readFileSync(join(site, slug, 'index.html'), 'utf8');
    for (const { op } of operations(loadSpec(slug))) {
      // An imported spec may leave either out (its lint does not ask for them).
      if (op.operationId) expect(page, op.operationId).toContain(op.operationId);
      if (op.summary) expect(page, op.summary).toContain(op.summary);
    }
    expect(page).toContain('../assets/redoc.standalone.js');
    expect(page).not.toContain('cdn.redocly.com');
    expect(page).toContain('x-codeSamples');
    expect(readFileSync(join(site, 'assets/redoc.standalone.js'), 'utf8')).not.toContain('cdn.redoc.ly');
    expect(existsSync(join(site, 'assets/redoc.standalone.js'))).toBe(true);
  });
});
