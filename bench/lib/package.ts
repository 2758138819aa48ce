// What sections (9) and (10) measure on a generated package: tsc on a
// consumer, against the same calls on bare openapi-fetch over the package's
// own `paths`, and the bytes a user's bundler ships.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ROOT, WORK } from './results.ts';

const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');

/** Wall time of `tsc --noEmit` on `source`, written beside the package as `<name>.ts`; throws with tsc's output if it does not compile. */
export function typecheckMs(pkg: string, name: string, source: string): number {
  writeFileSync(join(pkg, `${name}.ts`), source);
  writeFileSync(
    join(pkg, `tsconfig.${name}.json`),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        noEmit: true,
        declaration: false,
        declarationMap: false,
        baseUrl: '.',
        paths: { 'openapi-fetch': [join(ROOT, 'node_modules', 'openapi-fetch')] },
      },
      files: [`${name}.ts`],
    }),
  );
  const t0 = performance.now();
  const r = spawnSync(tsc, ['-p', join(pkg, `tsconfig.${name}.json`)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${name} consumer in ${pkg} does not type-check:\n${r.stdout}`);
  return ms;
}

/** The head of a bare openapi-fetch consumer over the package's generated `paths`. */
export const bareHead = (baseUrl: string) =>
  `import createClient from 'openapi-fetch';\nimport type { paths } from './dist/generated/schema.js';\nconst client = createClient<paths>({ baseUrl: '${baseUrl}' });`;

export interface Chunk {
  name: string;
  min: number;
  gz: number;
}

/** What a user's bundler ships for `createClient` from the built package in `dir`: every chunk, minified and gzipped. */
export async function bundle(dir: string, splitting: boolean): Promise<Chunk[]> {
  const r = await build({
    stdin: { contents: `export { createClient } from './dist/index.js';`, resolveDir: dir, loader: 'js' },
    bundle: true,
    splitting,
    outdir: join(WORK, 'bundle-out'),
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return r.outputFiles.map((f) => ({
    name: f.path.split('/').pop()!,
    min: f.contents.byteLength,
    gz: gzipSync(f.contents, { level: 9 }).byteLength,
  }));
}

/** The entry chunk and the chunks it loads on demand (the validation shapes, on the first response validated). */
export async function entryChunks(dir: string): Promise<{ entry: Chunk; lazy: Chunk[] }> {
  const split = await bundle(dir, true);
  const entry = split.find((f) => f.name === 'stdin.js')!;
  return { entry, lazy: split.filter((f) => f !== entry) };
}
