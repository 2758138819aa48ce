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
  const byModule = new Map<string, number>();
  for (const [file, info] of Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)) {
    if (info.bytesInOutput > 0) byModule.set(file.replace(/.*node_modules\//, '').replace(/^packages\//, ''), info.bytesInOutput);
    const part = file.includes('openapi-fetch')
      ? 'openapi-fetch'
      : /packages\/runtime\//.test(file)
        ? 'runtime'
        : /packages\/auth\//.test(file)
          ? 'auth'
          : 'provider';
    byPart.set(part, (byPart.get(part) ?? 0) + info.bytesInOutput);
  }
  return { min: code.byteLength, gz: gzipSync(code, { level: 9 }).byteLength, byPart, byModule };
}

// A user's file: import createClient and use it (exported, so it is kept).
const baseline = await bundle(`export { default as createClient } from 'openapi-fetch';`, ROOT);
const rows: string[] = [`| bare openapi-fetch (baseline) | ${fmt(baseline.min, 'B')} | ${fmt(baseline.gz, 'B')} | 1.00x | | | | |`];
const figures: Figure[] = [];
// Issue 12's targets, min+gz: a client-credentials JSON provider (expertfile) 9 kB, any provider 12 kB.
const TARGET: Record<string, number> = { expertfile: 9_000 };
const ANY_TARGET = 12_000;
// What each module is for: the bytes a bundle over its target spends, and on what.
const PURPOSE: Record<string, string> = {
  'openapi-fetch/dist/index.mjs': 'openapi-fetch: URL, path, query and body serialisation, the request and response steps',
  'runtime/dist/client.js':
    'the call: operation metadata, body serialisation, the attempt loop, parsing, validation, envelopes, errors in the throwing style',
  'runtime/dist/transport.js':
    'one attempt: the credential only to the own origin, redirects followed by hand, one replay after a 401, retry policy and Retry-After, the deadlines',
  'runtime/dist/errors.js': 'typed API errors by status, with redacted messages',
  'runtime/dist/body.js': 'bounded body reading, strict UTF-8, parsing by content type, form bodies',
  'runtime/dist/shape.js': 'required-field checks, compiled once per shape',
  'runtime/dist/pagination.js': "the spec's paging styles",
  'runtime/dist/xml.js': 'the strict XML reader and writer (no DTDs, bounded depth) and XML request bodies',
  'runtime/dist/log.js': 'the logging hook',
  'auth/dist/endpoint.js': 'token endpoint requests: client authentication methods, parameters, response and error parsing',
  'auth/dist/lifecycle.js': 'the token lifecycle: cache, renewal before expiry, single flight, the store lock, compare-and-set writes',
  'auth/dist/errors.js': 'typed auth errors with stable codes',
  'auth/dist/authenticator.js': 'the kinds of auth input createClient takes',
  'auth/dist/grants.js': 'the token request of each grant',
  'auth/dist/redact.js': 'secrets cut from messages, inspect and JSON output',
  'auth/dist/store.js': 'the in-memory token store and its lock',
  'auth/dist/tokens.js': 'token set validation',
  'auth/dist/url.js': 'https-only URL checks',
  'auth/dist/limited.js': 'bounded body reading',
  'auth/dist/deadline.js': 'timeouts of token requests',
  'auth/dist/pointer.js': 'JSON pointers into token responses and envelopes',
  'auth/dist/sleep.js': 'waits between retries and lock polls',
};
const over: string[] = [];
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
  const target = TARGET[slug] ?? ANY_TARGET;
  if (b.gz > target) {
    // At this bundle's own ratio of minified to gzipped bytes, the target is this many minified bytes.
    const budget = (target * b.min) / b.gz;
    let sum = 0;
    const lines = [...b.byModule]
      .sort((x, y) => y[1] - x[1])
      .map(([file, bytes]) => {
        sum += bytes;
        const purpose =
          PURPOSE[file] ?? (file.endsWith('generated/spec.js') ? "the provider's constants: auth profile and operation metadata" : '');
        return `| \`${file}\` | ${fmt(bytes, 'B')} | ${fmt(sum, 'B')}${sum > budget && sum - bytes <= budget ? ' (past the target here)' : ''} | ${purpose} |`;
      });
    over.push(`**@portico/${slug}**: ${fmt(b.gz, 'B')} min+gz against a target of ${fmt(target, 'B')}, which at this bundle's ratio (${(b.min / b.gz).toFixed(2)} minified bytes per gzipped byte) is about ${fmt(budget, 'B')} minified, against ${fmt(b.min, 'B')}. Its modules, largest first:

| module | minified | running total | what it is for |
| --- | --- | --- | --- |
${lines.join('\n')}`);
  }
  const part = (k: string) => fmt(b.byPart.get(k) ?? 0, 'B');
  rows.push(
    `| @portico/${slug} | ${fmt(b.min, 'B')} | ${fmt(b.gz, 'B')} | ${(b.gz / baseline.gz).toFixed(2)}x | ${part('openapi-fetch')} | ${part('runtime')} | ${part('auth')} | ${part('provider')} |`,
  );
}
const details = `esbuild (minify, ESM, browser platform, es2022) bundles a user's one-line entry \`export { createClient } from '@portico/<slug>'\` (the package's built \`dist\`, so its \`sideEffects: false\` and tree shaking apply); the baseline entry is \`export { default as createClient } from 'openapi-fetch'\`. Gzip level 9. The last four columns split the minified bytes by where they come from (esbuild metafile).

| bundle | min | min+gz | min+gz vs openapi-fetch | openapi-fetch | @portico/runtime | @portico/auth | provider (spec constants) |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

A provider client costs ${Math.min(...figures.map((f) => f.value / baseline.gz)).toFixed(1)}x to ${Math.max(...figures.map((f) => f.value / baseline.gz)).toFixed(1)}x the gzipped bytes of bare openapi-fetch, about ${fmt(Math.min(...figures.map((f) => f.value)) - baseline.gz, 'B')} to ${fmt(Math.max(...figures.map((f) => f.value)) - baseline.gz, 'B')} more. The extra is the runtime (timeouts, retries, typed errors, body parsing; the XML codec and pagination, with only the spec's own paging styles, in the packages whose spec uses them, from \`@portico/runtime/xml\` and \`@portico/runtime/pagination\`; webhooks and user input not unless imported) and \`@portico/auth\`, which brings only the kinds of \`auth\` input the provider takes: a client-credentials provider (expertfile, dexero-fd) carries the token request, response parsing and the token lifecycle (cache, single-flight, store, lock); a provider whose client holds a token or a session (dapi, fdx, finexer) carries none of it. Each provider's own spec constants are the smallest part.${
  over.length
    ? `

### Bundles over issue 12's targets, and where their bytes go

${over.join('\n\n')}

Every row is a feature a user of that provider needs: openapi-fetch and the runtime's call path (typed errors, bounded and typed parsing, timeouts, retries, the credential kept to its origin) are in every client; a client-credentials client requests, caches and renews its own token, once per process and across processes through a shared store, and that is \`@portico/auth\`'s endpoint, lifecycle and store modules; dexero-fd's API speaks XML, hence the XML codec. What a client can do without is already left out (bindings per spec, the authorization-code endpoints bound to \`oauth\` alone, XML request bodies in the XML codec): below the target is only a client without one of these features.`
    : ''
}`;
writeResult({ section: 6, title: 'Bundle size', figures, details, ms: performance.now() - started });
console.log(details);
