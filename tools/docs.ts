// Builds the static API reference into site/: one Redoc page per provider,
// with a TypeScript sample on every operation, a changelog page per package,
// an index that takes a newcomer from install to first call, and "Testing
// your integration" (the provider fakes of @portico/mock). Everything
// is served from site/ itself: the pages make no request to another host.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliQuickStart, escapeHtml } from './lib/quickstart.ts';
import { authSnippet, firstCall, testingSnippet } from './lib/readme.ts';
import { withCodeSamples } from './lib/samples.ts';
import { type Json, listProviders, loadSpec, operations, packageName, ROOT } from './lib/specs.ts';

const outAt = process.argv.indexOf('--out');
const site = outAt > 0 && process.argv[outAt + 1] ? process.argv[outAt + 1]! : join(ROOT, 'site');
rmSync(site, { recursive: true, force: true });
mkdirSync(join(site, 'assets'), { recursive: true });
const require = createRequire(import.meta.url);

// Redoc's sidebar shows the Redocly logo from cdn.redoc.ly; the site ships its
// own copy of that attribution so a page offline has no failed request.
const LOGO = 'assets/redocly-logo.svg';
const redoc = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'), 'utf8').replace(
  /https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(?:-full)?\.svg/g,
  `../${LOGO}`,
);
writeFileSync(join(site, 'assets', 'redoc.standalone.js'), redoc);
// The pages pin the bundle with subresource integrity: pin the copy they load.
const integrity = `sha384-${createHash('sha384').update(redoc).digest('base64')}`;
writeFileSync(
  join(site, LOGO),
  '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="16" viewBox="0 0 80 16"><text x="0" y="13" font-family="sans-serif" font-size="13" fill="#d41f1c">Redocly</text></svg>\n',
);

const CSS = `body{font:16px/1.55 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
h1{margin-bottom:.25rem}h2{margin:2.5rem 0 .25rem;border-top:1px solid #ddd;padding-top:1.5rem}
pre{background:#f5f5f7;border:1px solid #e3e3e8;border-radius:6px;padding:.75rem 1rem;overflow:auto;font-size:14px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.meta{color:#555;font-size:14px}.meta a{margin-right:1rem}nav a{margin-right:1rem}`;
const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head><body>
${body}
</body></html>
`;

/** Pending changesets that name the package: what the next release will say. */
function unreleased(name: string): string[] {
  const dir = join(ROOT, '.changeset');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((text) => new RegExp(`^["']?${name.replace(/[/.]/g, '\\$&')}["']?\\s*:`, 'm').test(text.split(/^---$/m)[1] ?? ''))
    .map((text) => text.split(/^---$/m).slice(2).join('---').trim());
}

function changelogPage(slug: string, pkg: Json): string {
  const file = join(ROOT, 'packages', slug, 'CHANGELOG.md');
  const released = existsSync(file) ? `<pre>${escapeHtml(readFileSync(file, 'utf8'))}</pre>` : '<p>No release published yet.</p>';
  const pending = unreleased(pkg.name);
  return page(
    `${pkg.name} changelog`,
    `<nav><a href="../index.html">All packages</a><a href="./index.html">API reference</a></nav>
<h1>${escapeHtml(pkg.name)} changelog</h1>
${pending.length ? `<h2>Unreleased</h2>\n<ul>${pending.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : ''}
<h2>Released (current: ${escapeHtml(pkg.version)})</h2>
${released}`,
  );
}

/** The terminal route for authorization-code providers: a token set without writing a web server. */
const sections: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'portico-docs-'));
try {
  for (const slug of listProviders()) {
    const doc = loadSpec(slug);
    // The rendered copy carries the samples; specs/ stays as people wrote it.
    const input = join(work, `${slug}.json`);
    writeFileSync(input, JSON.stringify(withCodeSamples(slug, doc)));
    const out = join(site, slug, 'index.html');
    execFileSync(
      join(ROOT, 'node_modules/.bin/redocly'),
      ['build-docs', input, '--config', join(ROOT, 'tools/redocly/docs.yaml'), '--output', out, '--title', `${doc.info.title} reference`],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    const html = readFileSync(out, 'utf8')
      .replace(/https:\/\/cdn\.redocly\.com\/redoc\/[^"']*\/redoc\.standalone\.js/g, '../assets/redoc.standalone.js')
      .replace(/(href="\.\.\/assets\/redoc\.standalone\.js" integrity=")[^"]*"/g, `$1${integrity}"`);
    writeFileSync(out, html);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', slug, 'package.json'), 'utf8'));
    writeFileSync(join(site, slug, 'changelog.html'), changelogPage(slug, pkg));
    const summary = doc.info.summary ?? String(doc.info.description ?? '').split(/\n\s*\n/)[0];
    sections.push(`<section id="${slug}">
<h2>${escapeHtml(doc.info.title)}</h2>
<p class="meta"><code>${escapeHtml(pkg.name)}</code> version <span class="version">${escapeHtml(pkg.version)}</span> · API ${escapeHtml(String(doc.info.version))} · ${operations(doc).length} operations ·
<a href="./${slug}/index.html">API reference</a><a href="./${slug}/changelog.html">Changelog</a></p>
<p>${escapeHtml(summary)}</p>
<p><strong>Auth:</strong> ${escapeHtml(String(doc['x-portico-auth'].description ?? doc['x-portico-auth'].grants?.join(', ') ?? ''))}</p>
<pre><code>npm install ${packageName(slug)}</code></pre>
<pre><code>${escapeHtml(`${authSnippet(slug, doc)}\n${firstCall(doc)}`)}</code></pre>
${cliQuickStart(slug, doc)}
</section>`);
    console.log(`site/${slug}/index.html`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** One provider's tests against its fake: through startMock, and through MSW where the client can keep the provider's URLs. */
function testingSection(slug: string, title: string): string {
  const doc = loadSpec(slug);
  const ways = (['startMock', 'msw'] as const).flatMap((via) => {
    const code = testingSnippet(slug, doc, via);
    return code ? [[via, code] as const] : [];
  });
  if (!ways.length) return '';
  return `<section id="test-${slug}">
<h2>${escapeHtml(title)}</h2>
${ways
  .map(
    ([via, code]) =>
      `<h3>${via === 'startMock' ? 'On a loopback port (<code>startMock</code>)' : 'Through MSW, at the provider&#39;s own URLs'}</h3>
<pre><code class="language-ts">${escapeHtml(code)}</code></pre>`,
  )
  .join('\n')}
<p>Or from the terminal, for an app in any language: <code>npx @portico/cli mock ${escapeHtml(slug)}</code>.</p>
</section>`;
}

const TESTING = `<nav><a href="./index.html">All packages</a></nav>
<h1>Testing your integration</h1>
<p><code>@portico/mock</code> is each provider as a fake, built from the same spec as its package: your app signs in
and calls it as it will call the provider, with no account and no network, and your tests drive it into the cases
a sandbox cannot reach.</p>
<pre><code>npm install --save-dev @portico/mock vitest</code></pre>
<ul>
<li><strong>Auth as the provider does it</strong>, from its profile: the client authentication method, PKCE S256 where
required, the state echoed, scopes and their separator, token lifetimes, refresh tokens that rotate (a rotated one
spent again ends the grant), revocation, enveloped token responses, permanent tokens, Dapi's access-code exchange.
The consent page approves at once (<code>controller.approve(url)</code>), or denies when told to.</li>
<li><strong>Answers from the spec</strong>: the documented examples, else values built from the schemas, always
valid against them (XML where the provider answers in XML); lists that page to an end; a request the spec would
refuse gets the provider's documented error.</li>
<li><strong>A controller for each test</strong>: <code>respond(operationId, …)</code> queues answers;
<code>fail(operationId, fault)</code> injects a 429 with <code>Retry-After</code>, a 5xx, a slow or hung answer, a
malformed or oversized body; <code>expireAccessTokens()</code>, <code>revokeGrants()</code>;
<code>signWebhook(event)</code> signs a delivery as the provider signs it; <code>requests</code> is the log of what
your app sent, credentials redacted; <code>reset()</code> between tests.</li>
<li><strong>Three ways to run it</strong>: <code>startMock()</code> on a loopback port (point <code>createClient</code>
at <code>mock.clientOptions</code>), MSW handlers that answer at the provider's real URLs
(<code>mswHandlers(createMock(…))</code> from <code>@portico/mock/msw</code>; add <code>msw</code> to your dev
dependencies), and <code>npx @portico/cli mock &lt;provider&gt;</code> in a terminal, which prints the URL and the
test credentials it accepts.</li>
</ul>
<p>Each file below is a complete vitest file: it signs in, makes a first call, then makes it again through a 429.</p>
<nav>${listProviders()
  .map((slug) => `<a href="#test-${slug}">${escapeHtml(loadSpec(slug).info.title)}</a>`)
  .join('')}</nav>
${listProviders()
  .map((slug) => testingSection(slug, loadSpec(slug).info.title))
  .join('\n')}`;
writeFileSync(join(site, 'testing.html'), page('Testing your integration with @portico/mock', TESTING));
console.log('site/testing.html');

writeFileSync(
  join(site, 'index.html'),
  page(
    'Portico: typed clients for real provider APIs',
    `<h1>Portico</h1>
<p>Typed TypeScript clients generated from hand-written OpenAPI documents, with each provider's auth handled:
tokens fetched, cached, refreshed and revoked for you. Pick a provider, install it, and make a first call.
Then <a href="./testing.html">test your integration</a> against the provider's fake.</p>
<nav>${listProviders()
      .map((slug) => `<a href="#${slug}">${escapeHtml(loadSpec(slug).info.title)}</a>`)
      .join('')}</nav>
${sections.join('\n')}`,
  ),
);
console.log('site/index.html');
