// Package quality gates on every published package (built by `npm test`
// before vitest runs), and on deliberately broken packages to show each gate
// bites.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attwProblems, metadataProblems, publintProblems, publishedPackages } from '../packages.ts';

const packages = publishedPackages();
const names = packages.map((p) => [p.manifest.name as string, p] as const);
const passed = { metadata: 0, publint: 0, attw: 0 };

describe('package gates', () => {
  it('finds the seven published packages', () => {
    expect(packages.map((p) => p.manifest.name)).toEqual(
      expect.arrayContaining([
        '@portico/auth',
        '@portico/runtime',
        '@portico/dexero-fd',
        '@portico/finexer',
        '@portico/fdx',
        '@portico/expertfile',
        '@portico/dapi',
      ]),
    );
  });

  it.each(names)('%s: README, LICENSE, repository, homepage, keywords, engines, publishConfig', (_name, { dir, folder }) => {
    expect(metadataProblems(dir, folder)).toEqual([]);
    passed.metadata++;
  });

  it.each(names)('%s: publint (strict)', async (_name, { dir }) => {
    expect(await publintProblems(dir)).toEqual([]);
    passed.publint++;
  });

  it.each(names)('%s: are the types wrong (ESM-only profile)', async (_name, { dir }) => {
    expect((await attwProblems(dir)).join('\n')).toBe('');
    passed.attw++;
  });
});

describe('the gates reject a broken package', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portico-broken-'));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist/index.js'), 'export const x = 1;\n');
    // No README, LICENSE, types or metadata; exports point at a file that is not there.
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: '@portico/broken',
        version: '1.0.0',
        type: 'module',
        exports: { '.': { default: './dist/index.js' }, './extra': './dist/missing.js' },
        files: ['dist'],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('metadata names each missing field', () => {
    const problems = metadataProblems(dir, 'broken');
    expect(problems).toEqual(
      expect.arrayContaining([
        'README.md is missing or empty',
        'LICENSE is missing or empty',
        'publishConfig.provenance must be true',
        'keywords must be a non-empty list',
        'engines.node is not set',
      ]),
    );
  });

  it('publint reports the export of a missing file', async () => {
    expect((await publintProblems(dir, 'npm')).join('\n')).toMatch(/dist\/missing\.js.*does not exist/);
  });

  it('attw reports types that masquerade as CommonJS, and a package without types', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'portico-broken-attw-'));
    try {
      cpSync(dir, copy, { recursive: true });
      expect(await attwProblems(copy)).toEqual(['attw: the package ships no types']);
      writeFileSync(join(copy, 'dist/index.d.cts'), 'export declare const x: number;\n');
      writeFileSync(
        join(copy, 'package.json'),
        JSON.stringify({
          name: '@portico/broken',
          version: '1.0.0',
          type: 'module',
          exports: { '.': { types: './dist/index.d.cts', default: './dist/index.js' } },
          files: ['dist'],
        }),
      );
      expect((await attwProblems(copy)).join('\n')).toMatch(/^attw FalseCJS: /m);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

afterAll(() =>
  console.log(`release: ${packages.length} packages; metadata ${passed.metadata}, publint ${passed.publint}, attw ${passed.attw} passed`),
);
