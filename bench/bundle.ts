// (6) Bundle size: minified + gzipped bytes a user's bundle gets for one
// provider client (esbuild bundling a one-line entry that imports
// createClient), per package, beside bare openapi-fetch.
//   node --import tsx bench/bundle.ts

import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { listProviders } from '../tools/lib/specs.ts';
import { type Figure, fmt, ROOT, writeResult } from './lib/results.ts';

const started = performance.now();

async function bundle(entry: string, resolveDir: string) {
  const result = await build({
    stdin: { contents: entry, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const byPart = new Map<string, number>();
  for (const [file, info] of Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)) {
    const part = file.includes('openapi-fetch')
      ? 'openapi-fetch'
      : /packages\/runtime\//.test(file)
        ? 'runtime'
        : /packages\/auth\//.test(file)
          ? 'auth'
          : 'provider';
    byPart.set(part, (byPart.get(part) ?? 0) + info.bytesInOutput);
  }
  return { min: code.byteLength, gz: gzipSync(code, { level: 9 }).byteLength, byPart };
}

// A user's file: import createClient and use it (exported, so it is kept).
const baseline = await bundle(`export { default as createClient } from 'openapi-fetch';`, ROOT);
const rows: string[] = [`| bare openapi-fetch (baseline) | ${fmt(baseline.min, 'B')} | ${fmt(baseline.gz, 'B')} | 1.00x | | | | |`];
const figures: Figure[] = [];
for (const slug of listProviders()) {
  const b = await bundle(`export { createClient } from './dist/index.js';`, join(ROOT, 'packages', slug));
  figures.push({
    label: `bundle, createClient of @portico/${slug}`,
    value: b.gz,
    unit: 'B',
    baselineLabel: 'bare openapi-fetch',
    baseline: baseline.gz,
    better: 'lower',
  });
  const part = (k: string) => fmt(b.byPart.get(k) ?? 0, 'B');
  rows.push(
    `| @portico/${slug} | ${fmt(b.min, 'B')} | ${fmt(b.gz, 'B')} | ${(b.gz / baseline.gz).toFixed(2)}x | ${part('openapi-fetch')} | ${part('runtime')} | ${part('auth')} | ${part('provider')} |`,
  );
}
const details = `esbuild (minify, ESM, browser platform, es2022) bundles a user's one-line entry \`export { createClient } from '@portico/<slug>'\` (the package's built \`dist\`, so its \`sideEffects: false\` and tree shaking apply); the baseline entry is \`export { default as createClient } from 'openapi-fetch'\`. Gzip level 9. The last four columns split the minified bytes by where they come from (esbuild metafile).

| bundle | min | min+gz | min+gz vs openapi-fetch | openapi-fetch | @portico/runtime | @portico/auth | provider (spec constants) |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

A provider client costs ${Math.min(...figures.map((f) => f.value / baseline.gz)).toFixed(1)}x to ${Math.max(...figures.map((f) => f.value / baseline.gz)).toFixed(1)}x the gzipped bytes of bare openapi-fetch, about ${fmt(Math.min(...figures.map((f) => f.value)) - baseline.gz, 'B')} to ${fmt(Math.max(...figures.map((f) => f.value)) - baseline.gz, 'B')} more. The extra is the runtime (timeouts, retries, typed errors, body parsing; the XML codec and pagination, with only the spec's own paging styles, in the packages whose spec uses them, from \`@portico/runtime/xml\` and \`@portico/runtime/pagination\`; webhooks and user input not unless imported) and \`@portico/auth\`, which brings only the kinds of \`auth\` input the provider takes: a client-credentials provider (expertfile, dexero-fd) carries the token request, response parsing and the token lifecycle (cache, single-flight, store, lock); a provider whose client holds a token or a session (dapi, fdx, finexer) carries none of it. Each provider's own spec constants are the smallest part.`;
writeResult({ section: 6, title: 'Bundle size', figures, details, ms: performance.now() - started });
console.log(details);
