// The API reference as a reader's browser shows it: every page renders with no
// console error and no request off the serving host, every operation and its
// TypeScript sample are on the page, every link of the index resolves, and
// the testing page's vitest files compile as the reader copies them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loopbackOnly, serveDirectory } from '../../packages/testing/src/index.ts';
import { testingSnippet } from '../../tools/lib/readme.ts';
import { listProviders, loadSpec, operations, ROOT } from '../../tools/lib/specs.ts';
import { typecheck } from '../../tools/test/typecheck.ts';

const site = mkdtempSync(join(tmpdir(), 'portico-site-'));
let server: Awaited<ReturnType<typeof serveDirectory>>;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

/** Opens `path`, recording console errors, page errors, failed requests and any request to another host. */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const page = await chromium.browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  // A request off the serving host is refused, so it shows up as failed.
  await loopbackOnly(page);
  const response = await page.goto(`${server.url}${path}`, { waitUntil: 'networkidle0', timeout: 60_000 });
  expect(response?.status(), path).toBe(200);
  return { page, problems };
}

describe('docs site in Chromium', () => {
  beforeAll(async () => {
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'tools/docs.ts'), '--out', site], { cwd: ROOT });
    server = await serveDirectory(site);
    chromium = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    rmSync(site, { recursive: true, force: true });
  });

  it.each(listProviders())(
    '%s: every operation and its TypeScript sample render, with no console error or off-host request',
    async (slug) => {
      const { page, problems } = await open(`/${slug}/index.html`);
      // Redoc 3 shows one tag at a time: open each from the sidebar, as a reader would.
      const tags = await page.$$eval('a[href^="/"]', (anchors) => [
        ...new Set(anchors.map((a) => a.getAttribute('href')!).filter((h) => h !== '/')),
      ]);
      expect(tags.length).toBeGreaterThan(0);
      const rendered: Record<string, string> = {};
      const operationIds = new Set(operations(loadSpec(slug)).map(({ op }) => String(op.operationId).toLowerCase()));
      for (const tag of tags) {
        await page.click(`a[href="${tag}"]`);
        await page.waitForFunction((t: string) => document.querySelector(`[data-section-id^="${t}/"]`) !== null, { timeout: 30_000 }, tag);
        // Redoc adds a tag's sections over several frames (on a busy machine, seconds): read them once their number holds still.
        await page.evaluate(() => delete (globalThis as { sectionCount?: number }).sectionCount);
        await page.waitForFunction(
          (t: string) => {
            const seen = globalThis as { sectionCount?: number };
            const count = document.querySelectorAll(`[data-section-id^="${t}/"]`).length;
            const still = seen.sectionCount === count;
            seen.sectionCount = count;
            return still;
          },
          { timeout: 30_000, polling: 300 },
          tag,
        );
        const ids = await page.$$eval(
          `[data-section-id^="${tag}/"]`,
          (sections, tag) =>
            sections.map((e) => e.getAttribute('data-section-id')!).filter((id) => !id.slice(tag.length + 1).includes('/')),
          tag,
        );
        // Operations further down render when scrolled to, as for a reader.
        for (const id of ids.filter((id) => operationIds.has(id.slice(tag.length + 1)))) {
          const selector = `[data-section-id="${id}"]`;
          await page.$eval(selector, (e) => e.scrollIntoView());
          await page
            .waitForFunction(
              (sel: string, from: string) => (document.querySelector(sel)?.textContent ?? '').includes(from),
              { timeout: 15_000 },
              selector,
              `from '@portico/${slug}'`,
            )
            .catch(() => {});
          rendered[id.slice(tag.length + 1)] = await page.$eval(selector, (e) => e.textContent ?? '');
        }
      }
      const doc = loadSpec(slug);
      for (const { op } of operations(doc)) {
        const text = rendered[String(op.operationId).toLowerCase()];
        expect(text, `${op.operationId} is rendered`).toBeTruthy();
        expect(text, `${op.operationId} shows its sample`).toContain(`from '@portico/${slug}'`);
        // A revocation endpoint's sample ends a grant (signing in first where a flow does); every other one creates a client.
        if (op.operationId === doc['x-portico-auth'].revocation?.operationId)
          expect(text, `${op.operationId} sample revokes`).toMatch(/await (flow\.revoke\(tokens\)|revokeGrant\(tokens)/);
        else expect(text, `${op.operationId} sample creates a client`).toContain('createClient(');
      }
      expect(problems).toEqual([]);
      await page.close();
    },
  );

  it("testing page: each provider's vitest files, as the browser shows them, compile on their own", async () => {
    const { page, problems } = await open('/testing.html');
    const shown = await page.$$eval('section[id^="test-"]', (sections) =>
      sections.map((s) => ({ id: s.id, code: [...s.querySelectorAll('pre code')].map((c) => c.textContent ?? '') })),
    );
    const expected = listProviders().filter((slug) => testingSnippet(slug, loadSpec(slug)));
    expect(shown.map((s) => s.id)).toEqual(expected.map((slug) => `test-${slug}`));
    const files: Record<string, string> = {};
    for (const { id, code } of shown) {
      const slug = id.slice('test-'.length);
      expect(code.length, slug).toBeGreaterThan(0);
      for (const [i, source] of code.entries()) {
        for (const from of ["from '@portico/mock", "from 'vitest'", `from '@portico/${slug}'`])
          expect(source, `${slug} ${i}`).toContain(from);
        // Resolved from packages/mock, which has msw, every provider package and itself (by name) to hand.
        files[join(ROOT, 'packages/mock', `${slug}.docs-${i}.test.ts`)] = source;
      }
    }
    const errors = typecheck(files);
    expect(errors, errors.join('\n')).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('index: no console error or off-host request, and every link resolves', async () => {
    const { page, problems } = await open('/index.html');
    const links = await page.$$eval('a[href]', (anchors) => anchors.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThan(listProviders().length * 2);
    for (const href of links) {
      const url = new URL(href);
      expect(url.host, href).toBe(new URL(server.url).host);
      if (url.hash && url.pathname.endsWith('/index.html') && url.pathname.split('/').length === 2) {
        expect(await page.$(url.hash), href).not.toBeNull();
        continue;
      }
      const response = await fetch(href);
      expect(response.status, href).toBe(200);
    }
    for (const slug of listProviders()) {
      const changelog = await open(`/${slug}/changelog.html`);
      expect(changelog.problems).toEqual([]);
      await changelog.page.close();
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
