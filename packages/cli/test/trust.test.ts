// Issue 21 ("Trust") for the portico command: where the client secret may
// go, where tokens live, who may end a login, what the browser inherits, and
// that a rotated refresh token is spent once and never lost. The CLI runs as
// child processes against oidc-provider on 127.0.0.1 (refresh tokens rotate
// on every use; reusing a spent one revokes the grant).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formOf, freePort, LoopbackServer, NO_STORE, type OidcHarness } from '../../testing/src/index.js';
import { CLIENT, FdxApi, loginArgs as fdxLoginArgs, freeze, portico, startFdxAuthServer, thaw } from './helpers.js';

let work: string;
let port: number;
let oidc: OidcHarness;
let api: FdxApi;

/** Records every request and answers none usefully: where a secret must never arrive. */
class Trap extends LoopbackServer {}
let trap: Trap;

const secrets = [CLIENT.clientSecret, 'finexer-secret-value', 'portico-secret-value', 'dexero-secret-value', 'dapi-token-value'];

/** A fresh user: home, config directory and an empty working directory of their own. */
function user() {
  const home = mkdtempSync(join(work, 'user-'));
  const config = join(home, 'xdg');
  const repo = join(home, 'repo');
  mkdirSync(repo);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: config,
    FDX_CLIENT_SECRET: CLIENT.clientSecret,
    BROWSER: '',
    DISPLAY: '',
  };
  return { home, repo, env, tokens: join(config, 'portico', 'fdx.json') };
}
type User = ReturnType<typeof user>;

const loginArgs = (extra: string[] = []) => fdxLoginArgs(oidc.issuer, port, extra);

const AUTHORIZE_URL = /^\s+(http:\/\/127\.0\.0\.1:\d+\/oauth2\/v4\/authorize\?\S+)$/m;

/** `portico login` to the end, the harness playing the user in the browser. */
async function login(who: User, extra: string[] = ['--no-open']) {
  const run = portico(loginArgs(extra), { cwd: who.repo, env: who.env });
  const [, url] = await run.waitFor(AUTHORIZE_URL);
  const answer = await fetch(await oidc.authorize(url!));
  expect(answer.status).toBe(200);
  const done = await run.exit;
  expect(done.code, done.stderr).toBe(0);
  return done;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** Makes the saved access token look expired, so the next call refreshes. */
function expire(file: string, change: Record<string, unknown> = {}): { refreshToken: string } {
  const saved = { ...readJson(file), ...change };
  saved.tokens.expiresAt = Date.now() - 60_000;
  writeFileSync(file, JSON.stringify(saved));
  return saved.tokens;
}

const call = (who: User, extra: string[] = []) =>
  portico(['call', 'fdx', 'GET', '/customers/current', '--base-url', api.url, ...extra], { cwd: who.repo, env: who.env }).exit;

const refreshes = () => oidc.grantCounts.refresh_token ?? 0;
const mode = (path: string) => statSync(path).mode & 0o777;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'portico-cli-trust-'));
  port = await freePort();
  oidc = await startFdxAuthServer(port);
  api = await new FdxApi(oidc).start();
  trap = await new Trap().start();
}, 60_000);

afterAll(async () => {
  await trap?.close();
  await api?.close();
  await oidc?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a tokens file never chooses where the client secret goes', () => {
  function plant(who: User): string {
    const file = join(who.repo, '.portico', 'fdx.json');
    mkdirSync(dirname(file));
    const tokens = { accessToken: 'planted', refreshToken: 'planted-rt', tokenType: 'Bearer', expiresAt: 1, raw: {} };
    writeFileSync(file, JSON.stringify({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl: trap.url, tokens }));
    return file;
  }

  it('portico call in a cloned repository with a .portico/fdx.json sends nothing to the server it names', async () => {
    const who = user();
    plant(who);
    const before = trap.requests.length;
    const done = await call(who);
    expect(trap.requests.length).toBe(before);
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/^portico: CliError \[not_logged_in\]: no tokens at \S+xdg\/portico\/fdx\.json/);
    expect(done.stderr).not.toContain(CLIENT.clientSecret);
  });

  it('a --tokens file outside the config directory needs --auth-url, and must name the same server', async () => {
    const who = user();
    const file = plant(who);
    const before = { trap: trap.requests.length, oidc: oidc.tokenEndpointHits };
    const bare = await call(who, ['--tokens', file]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^portico: CliError \[missing_auth_url\]: \S+ is outside portico's config directory/);
    const other = await call(who, ['--tokens', file, '--auth-url', oidc.issuer]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^portico: CliError \[auth_url_mismatch\]: /);
    expect(trap.requests.length).toBe(before.trap);
    expect(oidc.tokenEndpointHits).toBe(before.oidc);
  });
});

describe('portico login keeps tokens out of the working tree', () => {
  it('writes them under $XDG_CONFIG_HOME/portico (directory 0700, file 0600), and portico call finds them there', async () => {
    const who = user();
    const done = await login(who);
    expect(existsSync(join(who.repo, '.portico'))).toBe(false);
    expect(mode(dirname(who.tokens))).toBe(0o700);
    expect(mode(who.tokens)).toBe(0o600);
    expect(done.stdout).toContain(`saved to:       ${who.tokens} (mode 0600)`);
    expect(done.stdout).toContain('Next: portico call fdx GET <path>\n');
    expect(readJson(who.tokens)).toMatchObject({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl: oidc.issuer });

    expire(who.tokens);
    const before = refreshes();
    const called = await call(who);
    expect(called.code, called.stderr).toBe(0);
    expect(JSON.parse(called.stdout)).toEqual({ customerId: 'cust-0001' });
    expect(refreshes()).toBe(before + 1);
    expect(mode(who.tokens)).toBe(0o600);
  });
});

describe('portico login listens until the redirect that carries its state', () => {
  it('answers 400 to callbacks without the state, wrong or repeated, and still completes', async () => {
    const who = user();
    const run = portico(loginArgs(['--no-open']), { cwd: who.repo, env: who.env });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    const state = new URL(url!).searchParams.get('state')!;
    const callback = `http://127.0.0.1:${port}/callback`;
    for (const query of [
      '',
      '?error=access_denied',
      `?error=access_denied&state=${'x'.repeat(43)}`,
      `?code=stolen&state=${'x'.repeat(43)}`,
      `?code=stolen&state=${state}x`,
      `?code=stolen&state=${state}&state=${state}`,
    ]) {
      const response = await fetch(`${callback}${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.text()).toContain('Not this login');
    }
    const answer = await fetch(await oidc.authorize(url!));
    expect(answer.status).toBe(200);
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(readJson(who.tokens).tokens.refreshToken).toEqual(expect.any(String));
  });

  it('a callback with the state and an error ends the login with a typed error', async () => {
    const who = user();
    const run = portico(loginArgs(['--no-open']), { cwd: who.repo, env: who.env });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    const state = new URL(url!).searchParams.get('state')!;
    const response = await fetch(`http://127.0.0.1:${port}/callback?error=access_denied&state=${state}`);
    expect(response.status).toBe(400);
    const done = await run.exit;
    expect(done.code).toBe(1);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toMatch(/^portico: AuthorizationDeniedError \[authorization_denied\]: authorization failed: access_denied/);
    expect(existsSync(who.tokens)).toBe(false);
  });
});

describe('the browser portico login opens', () => {
  it('starts without any secret variable portico reads', async () => {
    const who = user();
    const dump = join(who.home, 'browser.env');
    const opener = join(who.home, 'browser.sh');
    writeFileSync(opener, `#!/bin/sh\nenv > '${dump}.tmp'\nprintf 'URL=%s\\n' "$1" >> '${dump}.tmp'\nmv '${dump}.tmp' '${dump}'\n`, {
      mode: 0o700,
    });
    const env = {
      ...who.env,
      BROWSER: opener,
      PORTICO_CLIENT_SECRET: 'portico-secret-value',
      FINEXER_CLIENT_SECRET: 'finexer-secret-value',
      DEXERO_FD_CLIENT_SECRET: 'dexero-secret-value',
      DAPI_ACCESS_TOKEN: 'dapi-token-value',
      PORTICO_TEST_KEPT: 'kept',
    };
    const run = portico(loginArgs(), { cwd: who.repo, env });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    for (let i = 0; i < 200 && !existsSync(dump); i++) await new Promise((r) => setTimeout(r, 25));
    const seen = readFileSync(dump, 'utf8');
    expect(seen).toContain(`URL=${url}\n`);
    expect(seen).toContain('PORTICO_TEST_KEPT=kept\n');
    for (const name of [
      'FDX_CLIENT_SECRET',
      'PORTICO_CLIENT_SECRET',
      'FINEXER_CLIENT_SECRET',
      'DEXERO_FD_CLIENT_SECRET',
      'DAPI_ACCESS_TOKEN',
    ])
      expect(seen).not.toContain(name);
    for (const secret of secrets) expect(seen).not.toContain(secret);
    expect((await fetch(await oidc.authorize(url!))).status).toBe(200);
    expect((await run.exit).code).toBe(0);
  });
});

/**
 * The token endpoint, reached through a door that holds each refresh
 * request until `expected` of them are in, or `holdMs` has passed: so every
 * call has read the tokens file before the first refresh is answered, however
 * the processes' start-up times fall.
 */
class HeldTokenEndpoint extends LoopbackServer {
  constructor(target: string, expected: number, holdMs: number) {
    super();
    let arrived = 0;
    let open!: () => void;
    const all = new Promise<void>((resolve) => (open = resolve));
    this.route('POST /oauth2/v4/token', async (request) => {
      if (formOf(request)?.get('grant_type') === 'refresh_token' && ++arrived >= expected) open();
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, holdMs))]);
      const response = await fetch(`${target}${request.path}`, {
        method: 'POST',
        headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' },
        body: request.body,
      });
      return { status: response.status, headers: { 'content-type': 'application/json', ...NO_STORE }, body: await response.text() };
    });
  }
}

describe('portico calls sharing a tokens file spend a rotating refresh token once', () => {
  it('four concurrent calls with an expired token: one refresh, every call answered, the grant alive', async () => {
    const who = user();
    await login(who);
    const door = await new HeldTokenEndpoint(oidc.issuer, 4, 2_000).start();
    try {
      const spent = expire(who.tokens, { authBaseUrl: door.url });
      const before = refreshes();
      const done = await Promise.all(Array.from({ length: 4 }, () => call(who)));
      for (const result of done) {
        expect(result.code, result.stderr).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual({ customerId: 'cust-0001' });
      }
      expect(refreshes()).toBe(before + 1);
      const saved = readJson(who.tokens).tokens;
      expect(saved.refreshToken).not.toBe(spent.refreshToken);
      expect((await oidc.introspect(saved.refreshToken, CLIENT)).active).toBe(true);
      expect((await oidc.introspect(saved.accessToken, CLIENT)).active).toBe(true);
    } finally {
      await door.close();
    }
  });
});

describe('a tokens file that can be read but not replaced', () => {
  async function refusedBeforeSpending(frozen: (tokens: string) => string) {
    const who = user();
    await login(who);
    const spent = expire(who.tokens);
    const text = readFileSync(who.tokens, 'utf8');
    const before = refreshes();
    freeze(frozen(who.tokens));
    let done: Awaited<ReturnType<typeof call>>;
    try {
      done = await call(who);
    } finally {
      thaw(frozen(who.tokens));
    }
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/^portico: CliError \[tokens_file_unwritable\]: cannot replace \S+fdx\.json \(E(PERM|ACCES)\)/);
    expect(refreshes()).toBe(before);
    expect(readFileSync(who.tokens, 'utf8')).toBe(text);
    expect((await oidc.introspect(spent.refreshToken, CLIENT)).active).toBe(true);
  }

  it('is refused before its refresh token is spent: a directory that cannot be written', () => refusedBeforeSpending(dirname));

  // The directory takes the lock, only the file cannot be replaced. Without
  // root, chmod on a file does not stop a rename over it; chattr needs root.
  it.runIf(process.getuid?.() === 0)('is refused before its refresh token is spent: an immutable file', () =>
    refusedBeforeSpending((tokens) => tokens),
  );

  it('loses no rotated token when the save fails after the refresh: they go to a recovery file the error names', async () => {
    const who = user();
    await login(who);
    const file = join(who.home, 'locked', 'fdx.json');
    mkdirSync(dirname(file));
    renameSync(who.tokens, file);
    const spent = expire(file);
    const text = readFileSync(file, 'utf8');
    const before = refreshes();
    // The directory turns read-only while the refresh is answered: after the check, before the save.
    let armed = true;
    oidc.provider.on('grant.success', (ctx) => {
      if (armed && ctx.oidc.params?.grant_type === 'refresh_token') freeze(dirname(file));
    });
    let done: Awaited<ReturnType<typeof call>>;
    try {
      done = await call(who, ['--tokens', file, '--auth-url', oidc.issuer]);
    } finally {
      armed = false;
      thaw(dirname(file));
    }
    expect(refreshes()).toBe(before + 1);
    expect(done.code).toBe(1);
    const [, recovery] =
      done.stderr.match(
        /^portico: CliError \[tokens_not_saved\]: cannot replace \S+ \(E\w+\) after its refresh token was spent; the new tokens are in (\S+): move/,
      ) ?? [];
    expect(recovery, done.stderr).toMatch(/xdg\/portico\/recovered\/fdx-\w+\/fdx\.json$/);
    // One failed save, one recovery file: the session does not retry a write that cannot succeed.
    expect(readdirSync(dirname(dirname(recovery!)))).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(mode(recovery!)).toBe(0o600);
    expect(mode(dirname(recovery!))).toBe(0o700);
    const rotated = readJson(recovery!).tokens;
    expect((await oidc.introspect(spent.refreshToken, CLIENT)).active).toBe(false);
    expect((await oidc.introspect(rotated.refreshToken, CLIENT)).active).toBe(true);
    for (const secret of [rotated.refreshToken, rotated.accessToken, spent.refreshToken, CLIENT.clientSecret])
      expect(done.stderr + done.stdout).not.toContain(secret);

    // What the error says to do works; the lock the failed process could not remove goes stale and is taken over.
    renameSync(recovery!, file);
    const again = await call(who, ['--tokens', file, '--auth-url', oidc.issuer]);
    expect(again.code, again.stderr).toBe(0);
    expect(refreshes()).toBe(before + 1);
  });
});
