// Builds the static API reference into site/: one Redoc page per provider and
// an index listing every package. Pages load Redoc from site/assets, so the
// site browses offline.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, listProviders, loadSpec, operations, packageName } from './lib/specs.ts';

const outAt = process.argv.indexOf('--out');
const site = outAt > 0 && process.argv[outAt + 1] ? process.argv[outAt + 1]! : join(ROOT, 'site');
rmSync(site, { recursive: true, force: true });
mkdirSync(join(site, 'assets'), { recursive: true });
const require = createRequire(import.meta.url);
copyFileSync(require.resolve('redoc/bundles/redoc.standalone.js'), join(site, 'assets', 'redoc.standalone.js'));

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const rows: string[] = [];
for (const slug of listProviders()) {
  const out = join(site, slug, 'index.html');
  execFileSync(join(ROOT, 'node_modules/.bin/redocly'), ['build-docs', slug, '--output', out], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  const html = readFileSync(out, 'utf8').replace(/https:\/\/cdn\.redocly\.com\/redoc\/[^"']*\/redoc\.standalone\.js/g, '../assets/redoc.standalone.js');
  writeFileSync(out, html);
  const doc = loadSpec(slug);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', slug, 'package.json'), 'utf8'));
  rows.push(`<tr><td><a href="./${slug}/index.html">${escape(doc.info.title)}</a></td><td><code>npm install ${packageName(slug)}</code></td><td>${escape(pkg.version)}</td><td>${operations(doc).length}</td></tr>`);
  console.log(`site/${slug}/index.html`);
}

writeFileSync(
  join(site, 'index.html'),
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portico API reference</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5rem;text-align:left}code{background:#f4f4f4;padding:.1rem .3rem}</style>
</head><body>
<h1>Portico API reference</h1>
<p>Typed TypeScript clients generated from hand-written OpenAPI documents. One page per provider.</p>
<table><thead><tr><th>Provider</th><th>Install</th><th>Version</th><th>Operations</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`,
);
console.log('site/index.html');
