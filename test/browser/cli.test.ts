// `portico login` and `portico call` end to end: the built CLI as a child
// process, oidc-provider on 127.0.0.1 with its own login and consent pages,
// filled in by headless Chromium, and a loopback FDX API that accepts only
// tokens the authorization server says are active.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, FdxApi, loginArgs as fdxLoginArgs, portico as run, startFdxAuthServer } from '../../packages/cli/test/helpers.ts';
import { freePort, launchChromium, loopbackOnly, type OidcHarness } from '../../packages/testing/src/index.ts';
import { loadSpec, ROOT } from '../../tools/lib/specs.ts';

const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const customer = () => loadSpec('fdx').paths['/customers/current'].get.responses['200'].content['application/json'].example;
/** The built CLI, in the test's directory, with its config directory in there too. */
const portico = (args: string[], env: NodeJS.ProcessEnv = ENV) => run(args, { cwd: work, env, bin: [BIN], killAfterMs: 120_000 });

let work: string;
let ENV: NodeJS.ProcessEnv;
let port: number;
let oidc: OidcHarness;
let api: FdxApi;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

const loginArgs = (extra: string[] = []) => fdxLoginArgs(oidc.issuer, port, ['--no-open', ...extra]);

/** A browser with no session yet (a fresh profile context) that reaches loopback only: oidc-provider's pages link web fonts. */
async function freshPage(): Promise<Page> {
  const context = await chromium.browser.createBrowserContext();
  const page = await context.newPage();
  await loopbackOnly(page);
  return page;
}

async function submit(page: Page, fill?: () => Promise<void>): Promise<void> {
  await fill?.();
  await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.click('button[type=submit]')]);
}

describe('portico login and call against oidc-provider in Chromium', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'portico-cli-'));
    ENV = { ...process.env, XDG_CONFIG_HOME: join(work, 'config'), FDX_CLIENT_SECRET: CLIENT.clientSecret, BROWSER: '', DISPLAY: '' };
    port = await freePort();
    oidc = await startFdxAuthServer(port, 'browser');
    api = await new FdxApi(oidc, customer()).start();
    chromium = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await chromium?.close();
    await api?.close();
    await oidc?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('logs in through the real login and consent pages, saves tokens owner-only in the config directory, calls, and refreshes an expired token', async () => {
    const file = join(work, 'config', 'portico', 'fdx.json');
    oidc.accessTokenTtl = 2;
    const login = portico(loginArgs());
    const [, url] = await login.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+\/oauth2\/v4\/authorize\?\S+)$/m);
    expect(new URL(url!).searchParams.get('code_challenge_method')).toBe('S256');
    const page = await freshPage();
    await page.goto(url!, { timeout: 30_000 });
    await submit(page, async () => {
      await page.type('input[name=login]', 'user-0001');
      await page.type('input[name=password]', 'any password');
    });
    await submit(page); // consent
    expect(page.url()).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/callback\\?`));
    expect(await page.$eval('h1', (h) => h.textContent)).toBe('Logged in');
    await page.browserContext().close();
    const done = await login.exit;
    expect(done.code, done.stderr).toBe(0);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(existsSync(join(work, '.portico'))).toBe(false);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl: oidc.issuer });
    expect(saved.tokens.refreshToken).toEqual(expect.any(String));
    for (const secret of [saved.tokens.accessToken, saved.tokens.refreshToken, CLIENT.clientSecret]) {
      expect(done.stdout + done.stderr).not.toContain(secret);
    }
    expect(done.stdout).toContain('[redacted]');

    // The access token lives 2 s: wait (bounded) until the server no longer accepts it.
    for (let i = 0; i < 100 && (await oidc.introspect(saved.tokens.accessToken, CLIENT)).active; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await oidc.introspect(saved.tokens.accessToken, CLIENT)).active).toBe(false);
    oidc.accessTokenTtl = 3600;

    const call = await portico(['call', 'fdx', 'GET', '/customers/current', '--base-url', api.url]).exit;
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual(customer());
    expect(oidc.grantCounts.refresh_token).toBe(1);
    const rotated = JSON.parse(readFileSync(file, 'utf8'));
    expect(rotated.tokens.refreshToken).not.toBe(saved.tokens.refreshToken);
    expect(rotated.tokens.accessToken).toBe(api.bearers.at(-1));
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // The rotated set is the one used next: no second refresh.
    const again = await portico(['call', 'fdx', 'GET', '/customers/current', '--base-url', api.url]).exit;
    expect(again.code, again.stderr).toBe(0);
    expect(oidc.grantCounts.refresh_token).toBe(1);
  });

  it('an API error prints the typed error and exits non-zero', async () => {
    const call = await portico(['call', 'fdx', 'GET', '/accounts/acct-missing', '--base-url', api.url]).exit;
    expect(call.code).toBe(1);
    expect(call.stderr).toMatch(/^portico: NotFoundError \[not_found\]: GET \/accounts\/\{accountId\} failed with HTTP 404/);
  });

  it('access_denied in the browser: one line, exit 1', async () => {
    const login = portico(loginArgs());
    const [, url] = await login.waitFor(/^\s+(http:\/\/\S+)$/m);
    const page = await freshPage();
    await page.goto(url!, { timeout: 30_000 });
    // oidc-provider's login page offers "[ Cancel ]", which ends in error=access_denied.
    await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.click('.login-help a')]);
    await page.browserContext().close();
    const done = await login.exit;
    expect(done.code).toBe(1);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toMatch(/access_denied/);
  });

  it('$BROWSER gets the file:// path of a page that Chromium follows to the authorization URL; a callback with the wrong state is refused with 400 and the login keeps waiting', async () => {
    // A stand-in for the user's browser: $BROWSER is called with the address to open.
    const opener = join(work, 'browser.sh');
    const opened = join(work, 'opened.txt');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s' "$1" > '${opened}.tmp'\nmv '${opened}.tmp' '${opened}'\n`, { mode: 0o700 });
    const login = portico(
      loginArgs(['--timeout', '10']).filter((arg) => arg !== '--no-open'),
      { ...ENV, BROWSER: opener },
    );
    const [, url] = await login.waitFor(/^\s+(http:\/\/\S+)$/m);
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50));
    // Not the authorization URL, nor any address that answers with it: a browser's argv is readable by every local user.
    const start = readFileSync(opened, 'utf8');
    expect(start).toMatch(/^file:\/\/\/\S+\/authorize\.html$/);
    expect(start).not.toContain(new URL(url!).searchParams.get('state')!);
    const page = await freshPage();
    const authorizing = page.waitForRequest((request) => request.url() === url, { timeout: 30_000 });
    await page.goto(start, { timeout: 30_000 });
    await authorizing;
    for (let i = 0; i < 100 && !page.url().startsWith(oidc.issuer); i++) await new Promise((r) => setTimeout(r, 50));
    expect(page.url().startsWith(oidc.issuer)).toBe(true);
    await page.browserContext().close();
    await login.waitFor(/Waiting for the redirect/);
    const response = await fetch(`http://127.0.0.1:${port}/callback?code=stolen&state=${'x'.repeat(43)}`);
    expect(response.status).toBe(400);
    // Not an answer to this login: it ends only when its own time is up.
    const done = await login.exit;
    expect(done.code).toBe(1);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toMatch(/^portico: CliError \[login_timeout\]/);
  });

  it('a port in use and a timeout: one line each, exit 1', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    const inUse = await portico(loginArgs()).exit;
    await new Promise((resolve) => busy.close(resolve));
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^portico: CliError \[port_in_use\]: port \d+ on 127\.0\.0\.1 is in use/);

    const late = await portico(loginArgs(['--timeout', '1'])).exit;
    expect(late.code).toBe(1);
    expect(late.stderr.trim().split('\n')).toHaveLength(1);
    expect(late.stderr).toMatch(/login_timeout/);
  });

  it('unknown paths and parameters are refused before any request, listing the valid ones', async () => {
    const before = api.requests.length;
    const path = await portico(['call', 'fdx', 'GET', '/customer', '--base-url', api.url]).exit;
    expect(path.code).toBe(2);
    expect(path.stderr).toContain('GET /customers/current');
    const param = await portico(['call', 'fdx', 'GET', '/accounts/acct-1', '--param', 'limit=3', '--base-url', api.url]).exit;
    expect(param.code).toBe(2);
    expect(param.stderr).toContain('valid parameters: accountId (path, required)');
    expect(api.requests.length).toBe(before);
    expect(oidc.tokenEndpointHits).toBeGreaterThan(0);
  });

  it('providers and --help', async () => {
    const list = await portico(['providers']).exit;
    expect(list.code).toBe(0);
    for (const slug of ['dapi', 'dexero-fd', 'expertfile', 'fdx', 'finexer']) expect(list.stdout).toMatch(new RegExp(`^${slug} `, 'm'));
    expect(list.stdout).toContain('GET    /customers/current');
    const help = await portico(['login', '--help']).exit;
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--client-id <id>');
    expect(help.stdout).not.toMatch(/--client-secret/);
  });
});
