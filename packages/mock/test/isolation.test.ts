// @portico/mock is for tests: no provider package depends on it, and no
// bundle of one carries a byte of it. And its generated files are what its
// specs generate now.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const MOCK = fileURLToPath(new URL('../', import.meta.url));
const providers = readdirSync(new URL('../../../specs/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const manifest = (name: string) => JSON.parse(readFileSync(`${PACKAGES}${name}/package.json`, 'utf8'));

describe('no provider package pulls in @portico/mock', () => {
  // What a provider package's users install: the package, and the Portico packages it depends on.
  const shipped = ['auth', 'runtime', ...providers];

  it.each(shipped)('%s does not depend on it', (name) => {
    const pkg = manifest(name);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      expect(Object.keys(pkg[field] ?? {})).not.toContain('@portico/mock');
  });

  it.each(providers)('a bundle of @portico/%s holds no module of it', async (slug) => {
    const result = await build({
      entryPoints: [`${PACKAGES}${slug}/src/index.ts`],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'neutral',
      conditions: ['@portico/source'],
      mainFields: ['module', 'main'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes(`${slug}/src`))).toBe(true);
    expect(inputs.filter((input) => input.includes('packages/mock/') || input.includes('@portico/mock'))).toEqual([]);
  });
});

it('src/generated is what the specs generate now (pnpm generate writes it)', () => {
  expect(() =>
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', '--check'], { cwd: MOCK, stdio: 'pipe' }),
  ).not.toThrow();
});
