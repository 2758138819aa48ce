// `portico login` in-process against a recording flow, so that mutation
// testing sees which test covers which line (the CLI's own tests run it as a
// child process): what is checked before anything listens, the loopback
// listener and who may end the login through it, what the browser is given,
// what is saved and printed, and that no token is ever printed.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OAuthFlow, Tokens } from '@portico/auth';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort, rejectionOf } from '../../testing/src/util.js';
import { findProvider } from '../src/catalog.js';
import type { CliError } from '../src/errors.js';
import { type LoginOptions, login, redirectPage } from '../src/login.js';
import { configDir, hasRecovered, recoverTokens, type TokensFile } from '../src/tokens-file.js';

/** What the flow was asked and answers: the authorization server is not what these tests are about. */
const flow = vi.hoisted(() => ({
  options: undefined as unknown,
  scope: undefined as unknown,
  exchanges: [] as Array<{ url: string; check: unknown }>,
  request: { url: '', state: '', codeVerifier: undefined as string | undefined },
  exchange: undefined as unknown as () => Promise<Tokens>,
}));
vi.mock('../src/provider.js', () => ({
  oauthFlow: async (slug: string, options: unknown) => {
    flow.options = { slug, ...(options as object) };
    return {
      authorizationUrl: async (params: unknown) => {
        flow.scope = params;
        return flow.request;
      },
      exchangeCode: (url: URL, check: unknown) => {
        flow.exchanges.push({ url: url.href, check });
        return flow.exchange();
      },
    } as unknown as OAuthFlow;
  },
}));

// A browser command that cannot even be spawned (an invalid argument throws at once).
const spawning = vi.hoisted(() => ({ failure: undefined as Error | undefined }));
vi.mock('node:child_process', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:child_process')>();
  return {
    ...original,
    spawn: (...args: Parameters<typeof original.spawn>) => {
      if (spawning.failure) throw spawning.failure;
      return original.spawn(...args);
    },
  };
});

// A listen that fails otherwise than with a port in use: a port below 1024 for a user who is not root.
const listening = vi.hoisted(() => ({ failure: undefined as NodeJS.ErrnoException | undefined }));
vi.mock('node:http', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:http')>();
  return {
    ...original,
    createServer: (...args: Parameters<typeof original.createServer>) => {
      const server = original.createServer(...args);
      const { failure } = listening;
      if (failure)
        server.listen = ((..._: unknown[]) => {
          process.nextTick(() => server.emit('error', failure));
          return server;
        }) as typeof server.listen;
      return server;
    },
  };
});

const TOKENS: Tokens = {
  accessToken: 'at-login-secret',
  tokenType: 'Bearer',
  refreshToken: 'rt-login-secret',
  expiresAt: Date.UTC(2030, 0, 2, 3, 4, 5),
  scope: ['openid', 'accounts'],
  raw: {},
};
const TITLE = findProvider('fdx').title;
const SECRETS = ['at-login-secret', 'rt-login-secret', 'client-secret-value', 'state-secret', 'verifier-secret'];

let root: string;
let port: number;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'portico-login-unit-'));
  mkdirSync(join(root, 'tmp'));
  vi.stubEnv('XDG_CONFIG_HOME', join(root, 'xdg'));
  vi.stubEnv('TMPDIR', join(root, 'tmp'));
  vi.stubEnv('BROWSER', undefined);
  vi.stubEnv('DISPLAY', undefined);
  vi.stubEnv('WAYLAND_DISPLAY', undefined);
  port = await freePort();
  flow.options = undefined;
  flow.scope = undefined;
  flow.exchanges = [];
  flow.request = {
    url: `https://bank.example/authorize?state=state-secret-${randomUUID()}`,
    state: `state-secret-${randomUUID()}`,
    codeVerifier: 'verifier-secret',
  };
  flow.exchange = async () => TOKENS;
});

afterEach(() => {
  spawning.failure = undefined;
  listening.failure = undefined;
  vi.unstubAllEnvs();
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

const options = (extra: Partial<LoginOptions> = {}): LoginOptions => ({
  clientId: 'app',
  port,
  out: join(root, 'out', 'fdx.json'),
  authUrl: 'https://bank.example',
  scope: ['openid', 'accounts'],
  timeout: 30,
  open: false,
  ...extra,
});

/** A login under way: what it printed, and a promise for its first line (printed once it listens). */
function start(extra: Partial<LoginOptions> = {}) {
  const lines: string[] = [];
  let listening!: () => void;
  const printed = new Promise<void>((resolve) => (listening = resolve));
  const done = login('fdx', options(extra), (line) => {
    lines.push(line);
    listening();
  });
  // A login that fails before it prints must fail the test, not hang it.
  done.catch(() => listening());
  return { lines, printed, done };
}

/** The pages the listener answers with: a title and one line, as the browser shows them. */
const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font:16px system-ui;margin:3rem"><h1>${title}</h1><p>${text}</p></body>`;

const callback = (query: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}/callback${query}`, init);
const withState = (state = flow.request.state) => `?code=the-code&state=${encodeURIComponent(state)}`;

/** Resolves when `socket` closes, failing after `ms`. */
const closed = (socket: Socket, ms = 10_000) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

const refused = (host: string) =>
  new Promise<string | undefined>((resolve) => {
    const socket = new Socket();
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    socket.connect(port, host, () => {
      socket.destroy();
      resolve(undefined);
    });
  });

describe('before anything listens', () => {
  it.each([
    [{ clientId: '' }, 'missing_client_id', `pass --client-id with the OAuth client id registered at ${TITLE}`],
    [{ port: 0 }, 'invalid_port', '--port must be 1-65535, got 0'],
    [{ port: 65536 }, 'invalid_port', '--port must be 1-65535, got 65536'],
    [{ port: 80.5 }, 'invalid_port', '--port must be 1-65535, got 80.5'],
    [{ port: Number.NaN }, 'invalid_port', '--port must be 1-65535, got NaN'],
    [{ timeout: 0 }, 'invalid_timeout', '--timeout must be a positive number of seconds'],
    [{ timeout: Number.NaN }, 'invalid_timeout', '--timeout must be a positive number of seconds'],
  ])('refuses %o', async (extra, code, message) => {
    const error = (await rejectionOf(login('fdx', options(extra), () => {}))) as CliError;
    expect([error.code, error.message]).toEqual([code, message]);
    expect(flow.options).toBeUndefined();
  });

  it('accepts the first and the last port', async () => {
    for (const edge of [1, 65535]) {
      // Whatever listening there fails with (a privileged port, one in use), it is not the range check.
      const error = await login('fdx', options({ port: edge, timeout: 0.001 }), () => {}).catch((e: CliError) => e);
      expect((error as CliError).code).not.toBe('invalid_port');
    }
  });

  it('any other failure to listen is passed on as it is', async () => {
    listening.failure = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), { code: 'EACCES' });
    expect(await rejectionOf(login('fdx', options({ port: 80 }), () => {}))).toBe(listening.failure);
  });

  it('a port in use is port_in_use, naming it', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const error = (await rejectionOf(login('fdx', options(), () => {}))) as CliError;
      expect(error.code).toBe('port_in_use');
      expect(error.message).toBe(`port ${port} on 127.0.0.1 is in use; pass --port with a free one (and register its redirect URI)`);
    } finally {
      taken.close();
    }
  });
});

describe('the loopback listener', () => {
  it('listens on 127.0.0.1 only, for the redirect URI the flow was given', async () => {
    const run = start();
    await run.printed;
    expect(flow.options).toEqual({
      slug: 'fdx',
      clientId: 'app',
      redirectUri: `http://127.0.0.1:${port}/callback`,
      authBaseUrl: 'https://bank.example',
    });
    expect(await refused('::1')).toBe('ECONNREFUSED');
    expect(await refused('127.0.0.1')).toBeUndefined();
    expect((await callback(withState())).status).toBe(200);
    await run.done;
  });

  it('answers 404 to anything but GET /callback, 400 to a callback without exactly this state, and sends the code on once', async () => {
    let finish!: () => void;
    flow.exchange = () => new Promise((resolve) => (finish = () => resolve(TOKENS)));
    const run = start();
    await run.printed;
    const other = await fetch(`http://127.0.0.1:${port}/other${withState()}`);
    expect([other.status, other.headers.get('content-type'), await other.text()]).toEqual([404, 'text/plain', 'not found']);
    expect((await callback(withState(), { method: 'POST' })).status).toBe(404);
    for (const query of ['?code=c', withState('wrong'), `${withState()}&state=${flow.request.state}`, `${withState()}&state=x`]) {
      const answer = await callback(query);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await answer.text()).toBe(
        page('Not this login', 'This redirect does not carry the state of the login portico is waiting for; it was ignored.'),
      );
    }
    expect(flow.exchanges).toEqual([]);
    const answered = callback(withState());
    await vi.waitFor(() => expect(flow.exchanges).toHaveLength(1), { timeout: 10_000 });
    // A reload or a second tab while the code is being exchanged spends nothing.
    expect((await callback(withState())).status).toBe(404);
    finish();
    const answer = await answered;
    expect([answer.status, answer.headers.get('cache-control'), answer.headers.get('content-type')]).toEqual([
      200,
      'no-store',
      'text/html; charset=utf-8',
    ]);
    expect(await answer.text()).toBe(page('Logged in', 'You can close this tab and return to the terminal.'));
    await run.done;
    expect(flow.exchanges).toEqual([
      {
        url: `http://127.0.0.1/callback${withState()}`,
        check: { state: flow.request.state, codeVerifier: 'verifier-secret' },
      },
    ]);
    expect(await refused('127.0.0.1')).toBe('ECONNREFUSED');
  });

  it('a failed exchange ends the login with its error and tells the browser to look at the terminal', async () => {
    const failure = new Error('invalid_grant');
    flow.exchange = () => Promise.reject(failure);
    const run = start();
    await run.printed;
    const answer = await callback(withState());
    expect([answer.status, answer.headers.get('cache-control'), answer.headers.get('content-type')]).toEqual([
      400,
      'no-store',
      'text/html; charset=utf-8',
    ]);
    expect(await answer.text()).toBe(page('Login failed', 'See the terminal for the reason.'));
    expect(await rejectionOf(run.done)).toBe(failure);
    expect(readdirSync(root)).not.toContain('out');
  });

  it('gives up after the timeout, not before, and closes the listener', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const run = start({ timeout: 2 });
    await run.printed;
    let settled = false;
    run.done.catch(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = (await rejectionOf(run.done)) as CliError;
    expect([error.code, error.message]).toEqual(['login_timeout', 'no authorization came back within 2 s; run portico login again']);
    vi.useRealTimers();
    expect(await refused('127.0.0.1')).toBe('ECONNREFUSED');
  });

  it('a login that completes leaves no timer behind to keep the process alive', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const run = start();
    await run.printed;
    expect(vi.getTimerCount()).toBe(1);
    // Through a socket of its own: fetch would set timers of its own.
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    socket.end(`GET /callback${withState()} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await run.done;
    expect(vi.getTimerCount()).toBe(0);
    socket.destroy();
  });

  it('drops connections still open when the login ends', async () => {
    const run = start();
    await run.printed;
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    const ended = closed(socket);
    // A request that never finishes: closing the server alone would wait for it.
    socket.write('GET /callback HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect((await callback(withState())).status).toBe(200);
    await run.done;
    await ended;
  });
});

describe('what the login saves and prints', () => {
  it('saves the tokens owner-only where --tokens says, and prints where, never a token', async () => {
    const run = start();
    await run.printed;
    expect(flow.scope).toEqual({ scope: ['openid', 'accounts'] });
    expect(run.lines).toEqual([
      `Open this URL in a browser to authorize ${TITLE}:\n\n  ${flow.request.url}\n\nWaiting for the redirect to http://127.0.0.1:${port}/callback …`,
    ]);
    await callback(withState());
    await run.done;
    const out = join(root, 'out', 'fdx.json');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      provider: 'fdx',
      clientId: 'app',
      authBaseUrl: 'https://bank.example',
      tokens: TOKENS,
    } satisfies TokensFile);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(run.lines[1]).toBe(
      [
        `Logged in to ${TITLE} as client app.`,
        '  scope:          openid accounts',
        '  access token:   [redacted], expires 2030-01-02T03:04:05.000Z',
        '  refresh token:  [redacted]',
        `  saved to:       ${out} (mode 0600)`,
        `Next: portico call fdx GET <path> --tokens ${out} --auth-url https://bank.example`,
      ].join('\n'),
    );
    for (const secret of SECRETS.slice(0, 2)) expect(run.lines.join('\n')).not.toContain(secret);
  });

  it('in the config directory by default, where the file names its server itself', async () => {
    flow.request = { ...flow.request, codeVerifier: undefined };
    flow.exchange = async () => ({ accessToken: 'at-login-secret', tokenType: 'Bearer', raw: {} });
    const run = start({ out: undefined, scope: [] });
    await run.printed;
    expect(flow.scope).toEqual({});
    await callback(withState());
    await run.done;
    expect(flow.exchanges[0]?.check).toEqual({ state: flow.request.state });
    const out = join(configDir(), 'fdx.json');
    expect(run.lines[1]).toBe(
      [
        `Logged in to ${TITLE} as client app.`,
        '  scope:          (as requested)',
        '  access token:   [redacted]',
        '  refresh token:  none',
        `  saved to:       ${out} (mode 0600)`,
        'Next: portico call fdx GET <path>',
      ].join('\n'),
    );
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('without --auth-url, nothing names a server', async () => {
    const out = join(configDir(), 'other.json');
    const run = start({ out, authUrl: undefined, scope: undefined });
    await run.printed;
    expect(flow.options).toEqual({ slug: 'fdx', clientId: 'app', redirectUri: `http://127.0.0.1:${port}/callback` });
    expect(flow.scope).toEqual({});
    await callback(withState());
    await run.done;
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ provider: 'fdx', clientId: 'app', tokens: TOKENS });
    expect(run.lines[1]).toMatch(new RegExp(`\\nNext: portico call fdx GET <path> --tokens ${out}$`));
  });

  it('a new login drops the recovery file an earlier call left for the same file', async () => {
    const out = join(root, 'out', 'fdx.json');
    recoverTokens(out, { provider: 'fdx', clientId: 'app', tokens: TOKENS }, undefined, new Error('EPERM'));
    expect(hasRecovered(out)).toBe(true);
    const run = start();
    await run.printed;
    await callback(withState());
    await run.done;
    expect(hasRecovered(out)).toBe(false);
  });
});

describe('the browser', () => {
  /** A $BROWSER that records its argv, environment, the page it was given and the modes, then says it is done. */
  function recordingBrowser(name = 'browser') {
    const seen = join(root, `seen-${name}`);
    mkdirSync(seen);
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    const script = join(bin, name);
    writeFileSync(
      script,
      `#!/bin/sh
page=$(printf '%s' "$1" | sed 's#^file://##')
printf '%s\\n' "$@" > ${seen}/argv
env > ${seen}/env
cp "$page" ${seen}/page
stat -c %a "$page" "$(dirname "$page")" > ${seen}/modes
echo $$ > ${seen}/pid
fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)
printf '%s\n' "$fds" > ${seen}/fds
[ -n "$BROWSER_REMOVES_PAGE" ] && rm -rf "$(dirname "$page")"
touch ${seen}/done
exec sleep \${BROWSER_LINGER:-0}
`,
    );
    chmodSync(script, 0o755);
    return {
      script,
      bin,
      seen: async () => {
        await vi.waitFor(() => statSync(join(seen, 'done')), { timeout: 10_000 });
        return {
          argv: readFileSync(join(seen, 'argv'), 'utf8').trim().split('\n'),
          env: readFileSync(join(seen, 'env'), 'utf8'),
          page: readFileSync(join(seen, 'page'), 'utf8'),
          modes: readFileSync(join(seen, 'modes'), 'utf8').trim().split('\n'),
          pid: Number(readFileSync(join(seen, 'pid'), 'utf8')),
          fds: readFileSync(join(seen, 'fds'), 'utf8').trim().split('\n'),
        };
      },
    };
  }
  const pages = () => readdirSync(join(root, 'tmp')).filter((name) => name.startsWith('portico-login-'));

  it("is given the file:// path of an owner-only page leading to the authorization URL, and none of portico's secrets; the page goes when the login ends", async () => {
    const browser = recordingBrowser();
    vi.stubEnv('BROWSER', browser.script);
    vi.stubEnv('FDX_CLIENT_SECRET', 'client-secret-value');
    const run = start({ open: true });
    await run.printed;
    const seen = await browser.seen();
    expect(seen.argv).toHaveLength(1);
    expect(fileURLToPath(seen.argv[0]!)).toMatch(new RegExp(`^${join(root, 'tmp', 'portico-login-')}[^/]+/authorize\\.html$`));
    expect(seen.page).toBe(redirectPage(flow.request.url));
    expect(seen.page).toContain('<title>Opening the authorization page</title>');
    expect(seen.modes).toEqual(['600', '700']);
    expect(seen.env).toContain(`BROWSER=${browser.script}`);
    expect(seen.env).not.toContain('client-secret-value');
    for (const secret of SECRETS) expect(seen.argv[0]).not.toContain(secret);
    expect(pages()).toHaveLength(1);
    await callback(withState());
    await run.done;
    expect(pages()).toEqual([]);
  });

  it("runs on its own: detached, without portico's stdio, and not keeping portico alive", async () => {
    const browser = recordingBrowser();
    vi.stubEnv('BROWSER', browser.script);
    vi.stubEnv('BROWSER_LINGER', '30');
    const run = start({ open: true });
    await run.printed;
    const seen = await browser.seen();
    try {
      await vi.waitFor(() => expect(readFileSync(`/proc/${seen.pid}/cmdline`, 'utf8')).toMatch(/^sleep\0/), { timeout: 10_000 });
      const stat = readFileSync(`/proc/${seen.pid}/stat`, 'utf8');
      // A session of its own (setsid): it is its process group's leader.
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])).toBe(seen.pid);
      expect(seen.fds).toEqual(['/dev/null', '/dev/null', '/dev/null']);
      expect(process.getActiveResourcesInfo()).not.toContain('ProcessWrap');
      await callback(withState());
      await run.done;
    } finally {
      process.kill(seen.pid);
    }
  });

  it('a browser command that cannot be spawned ends the login, leaving no page', async () => {
    vi.stubEnv('BROWSER', recordingBrowser().script);
    spawning.failure = new Error('invalid argument');
    const error = await rejectionOf(login('fdx', options({ open: true }), () => {}));
    expect(error).toBe(spawning.failure);
    expect(pages()).toEqual([]);
    expect(await refused('127.0.0.1')).toBe('ECONNREFUSED');
  });

  it('macOS opens it with open, and Windows with nothing', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    const browser = recordingBrowser('open');
    vi.stubEnv('PATH', `${browser.bin}:${process.env.PATH}`);
    vi.stubEnv('HOME', root);
    vi.stubEnv('DISPLAY', ':0');
    try {
      Object.defineProperty(process, 'platform', { value: 'darwin' });
      const mac = start({ open: true });
      await mac.printed;
      expect((await browser.seen()).page).toBe(redirectPage(flow.request.url));
      await callback(withState());
      await mac.done;
      Object.defineProperty(process, 'platform', { value: 'win32' });
      port = await freePort();
      const windows = start({ open: true });
      await windows.printed;
      expect(pages()).toEqual([]);
      await callback(withState());
      await windows.done;
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('a page directory removed meanwhile (a temporary files cleaner) does not fail the login', async () => {
    const browser = recordingBrowser();
    vi.stubEnv('BROWSER', browser.script);
    vi.stubEnv('BROWSER_REMOVES_PAGE', '1');
    const run = start({ open: true });
    await run.printed;
    await browser.seen();
    expect(pages()).toEqual([]);
    await callback(withState());
    await run.done;
  });

  it('the page goes when the login fails too', async () => {
    vi.stubEnv('BROWSER', recordingBrowser().script);
    flow.exchange = () => Promise.reject(new Error('invalid_grant'));
    const run = start({ open: true });
    await run.printed;
    expect(pages()).toHaveLength(1);
    await callback(withState());
    await rejectionOf(run.done);
    expect(pages()).toEqual([]);
  });

  it('on a Linux desktop (X11 or Wayland) without $BROWSER, xdg-open is started', async () => {
    for (const display of ['DISPLAY', 'WAYLAND_DISPLAY']) {
      const browser = recordingBrowser(`xdg-open-${display}`);
      const { bin } = browser;
      rmSync(join(bin, 'xdg-open'), { force: true });
      writeFileSync(join(bin, 'xdg-open'), readFileSync(browser.script));
      chmodSync(join(bin, 'xdg-open'), 0o755);
      vi.stubEnv('PATH', `${bin}:${process.env.PATH}`);
      vi.stubEnv(display, ':0');
      port = await freePort();
      const run = start({ open: true });
      await run.printed;
      expect((await browser.seen()).page).toBe(redirectPage(flow.request.url));
      await callback(withState());
      await run.done;
      vi.stubEnv(display, undefined);
    }
  });

  it('starts nothing and writes no page without a browser to start, or with --no-open', async () => {
    const browser = recordingBrowser();
    for (const [env, open] of [
      [{}, true],
      [{ BROWSER: '' }, true],
      [{ BROWSER: browser.script }, false],
    ] as const) {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      port = await freePort();
      const run = start({ open });
      await run.printed;
      expect(pages()).toEqual([]);
      await callback(withState());
      await run.done;
    }
    expect(readdirSync(join(root, 'seen-browser'))).toEqual([]);
  });

  it('a $BROWSER that cannot be started leaves the printed URL as the way', async () => {
    vi.stubEnv('BROWSER', join(root, 'no-such-browser'));
    const run = start({ open: true });
    await run.printed;
    await callback(withState());
    await run.done;
    expect(run.lines).toHaveLength(2);
  });
});
