// `portico mock` as users run it: the CLI in a process of its own, reached
// with curl (the real one) and with the provider packages configured from
// what it prints; stopped by a signal; refusing a bad slug, port, or a port
// in use with one line.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../../tools/lib/specs.ts';
import { main } from '../src/cli.js';
import { portico, type Run } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'portico-cli-mock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// Real secrets in the environment, as on a developer's machine: the mock needs none, reads none, prints none.
const REAL = {
  FDX_CLIENT_SECRET: 'real-fdx-secret-0123456789',
  PORTICO_CLIENT_SECRET: 'real-portico-secret-0123456789',
  DAPI_ACCESS_TOKEN: 'real-dapi-token-0123456789',
};
const env = { PATH: process.env.PATH, HOME: work, XDG_CONFIG_HOME: join(work, 'xdg'), ...REAL };

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** What `portico mock` printed: its URL, each `name  value` row, and each printed options object by its label. */
interface Printed {
  url: string;
  values: Record<string, string>;
  options: Record<string, Record<string, string>>;
}

async function started(slug: string, extra: string[] = []): Promise<{ cli: Run; printed: Printed }> {
  const cli = portico(['mock', slug, ...extra], { cwd: work, env });
  const [, url] = await cli.waitFor(/^portico mock: a fake .+ on (http:\/\/127\.0\.0\.1:\d+)$/m);
  const text = (await cli.waitFor(/^Serving until[^\n]*$/m)).input!;
  const values: Record<string, string> = {};
  const options: Record<string, Record<string, string>> = {};
  for (const [, name, value] of text.matchAll(/^ {2}(\S(?:.*?\S)?) {2,}(.+)$/gm)) {
    // The options are printed as a TypeScript object literal of string values: `{ baseUrl: "http://…" }`.
    if (value!.startsWith('{ '))
      options[name!] = Object.fromEntries([...value!.matchAll(/(\w+): ("[^"]*")/g)].map(([, k, v]) => [k!, JSON.parse(v!)]));
    else values[name!] = value!;
  }
  return { cli, printed: { url: url!, values, options } };
}

async function stop(cli: Run, signal: NodeJS.Signals = 'SIGTERM') {
  process.kill(cli.pid, signal);
  return cli.exit;
}

const curl = async (...args: string[]) =>
  (await promisify(execFile)('curl', ['--silent', '--show-error', '--max-time', '20', ...args])).stdout;

/** A TCP connection to `host:port`: whether it was accepted. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 5_000 });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });

describe('portico mock', () => {
  it('serves FDX to curl: authorize with PKCE, the code exchange, a call, a rotating refresh, and reuse detection; logs none of it', async () => {
    const { cli, printed } = await started('fdx');
    const issued: string[] = [];
    try {
      const profile = loadSpec('fdx')['x-portico-auth'];
      const authServer = printed.options['oauth() options']!.baseUrl!;
      const api = printed.options['createClient options']!.baseUrl!;
      const { clientId, clientSecret, redirectUri } = printed.values as Record<string, string>;
      const verifier = randomBytes(32).toString('base64url');
      const authorize = new URL(authServer + profile.authorization.url);
      authorize.search = new URLSearchParams({
        client_id: clientId!,
        redirect_uri: redirectUri!,
        response_type: 'code',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        scope: 'openid customers',
        state: 'state-from-curl',
      }).toString();
      // The consent page approves at once: one redirect back to the app, with the code and the state.
      const [status, location] = (await curl('--output', '/dev/null', '--write-out', '%{http_code} %{redirect_url}', authorize.href)).split(
        ' ',
      );
      expect(status).toMatch(/^30[23]$/);
      const callback = new URL(location!);
      expect(callback.origin + callback.pathname).toBe(redirectUri);
      expect(callback.searchParams.get('state')).toBe('state-from-curl');

      const token = authServer + profile.token.url;
      const basic = ['--user', `${clientId}:${clientSecret}`];
      const form = (fields: Record<string, string>) => Object.entries(fields).flatMap(([k, v]) => ['--data-urlencode', `${k}=${v}`]);
      const exchange = JSON.parse(
        await curl(
          ...basic,
          ...form({
            grant_type: 'authorization_code',
            client_id: clientId!,
            code: callback.searchParams.get('code')!,
            redirect_uri: redirectUri!,
            code_verifier: verifier,
          }),
          token,
        ),
      );
      expect(exchange).toMatchObject({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: expect.stringMatching(/^bearer$/i),
      });

      const customer = JSON.parse(
        await curl('--fail-with-body', '--header', `Authorization: Bearer ${exchange.access_token}`, `${api}/customers/current`),
      );
      expect(customer).toHaveProperty('customerId');
      const anonymous = await curl('--output', '/dev/null', '--write-out', '%{http_code}', `${api}/customers/current`);
      expect(anonymous).toBe('401');

      const refresh = (refreshToken: string) =>
        curl(
          '--write-out',
          '\n%{http_code}',
          ...basic,
          ...form({ grant_type: 'refresh_token', client_id: clientId!, refresh_token: refreshToken }),
          token,
        );
      const [rotatedBody, rotatedStatus] = (await refresh(exchange.refresh_token)).split('\n');
      expect(rotatedStatus).toBe('200');
      const rotated = JSON.parse(rotatedBody!);
      expect(rotated.refresh_token).not.toBe(exchange.refresh_token);
      // Spending the old refresh token again ends the whole grant, as FDX's profile says (rotation with reuse detection).
      for (const spent of [exchange.refresh_token, rotated.refresh_token]) {
        const [body, code] = (await refresh(spent)).split('\n');
        expect(code).toBe('400');
        expect(JSON.parse(body!)).toMatchObject({ error: 'invalid_grant' });
      }
      issued.push(
        verifier,
        callback.searchParams.get('code')!,
        exchange.access_token,
        exchange.refresh_token,
        rotated.access_token,
        rotated.refresh_token,
      );
    } finally {
      const exit = await stop(cli);
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toMatch(/^portico mock: SIGTERM, stopping after \d+ requests$/m);
      expect(exit.stderr).toBe('');
      // It logs no request: no code, verifier or token of the flow reaches its output.
      expect(issued).toHaveLength(6);
      for (const secret of issued) expect(exit.stdout).not.toContain(secret);
    }
  });

  it.each(['dapi', 'dexero-fd', 'expertfile', 'fdx', 'finexer'])(
    '%s: what it prints is all its package needs to sign in and call, and no secret of the environment is printed',
    async (slug) => {
      const { cli, printed } = await started(slug);
      try {
        const { createClient: create, ...module } = (await import(`@portico/${slug}`)) as any;
        const base = printed.options['createClient options']!;
        expect(base.baseUrl).toMatch(new RegExp(`^${printed.url}(/|$)`));
        let client: any;
        let call: () => Promise<{ response: Response }>;
        if (printed.options['oauth() options']) {
          const flow = module.oauth({ ...printed.values, ...printed.options['oauth() options'] });
          const request = await flow.authorizationUrl({ scope: slug === 'fdx' ? ['openid', 'customers'] : ['customer_read'] });
          // The browser at the consent page, which approves at once.
          const consent = await fetch(request.url, { redirect: 'manual' });
          const tokens = await flow.exchangeCode(consent.headers.get('location'), request);
          client = create({ ...base, auth: flow.session(tokens) });
          call = () => client.GET(slug === 'fdx' ? '/customers/current' : '/customers');
        } else if (printed.options["createClient's auth"]) {
          client = create({ ...base, auth: { ...printed.values, ...printed.options["createClient's auth"] } });
          call = () =>
            slug === 'expertfile'
              ? client.GET('/organization/{corporation}/expert', { params: { path: { corporation: 767 } } })
              : client.GET('/records.{format}', { params: { path: { format: 'json' } } });
        } else {
          const { appSecret, accessCode, connectionID, userSecret } = printed.values;
          const tokens = await module.exchangeToken({ appSecret, accessCode, connectionID }, printed.options['exchangeToken() options']);
          client = create({ ...base, auth: { accessToken: tokens.accessToken } });
          call = () => client.POST('/data/identity/get', { body: { appSecret, userSecret } });
        }
        expect((await call()).response.status).toBe(200);
      } finally {
        const exit = await stop(cli, 'SIGINT');
        expect(exit.code).toBe(0);
        for (const secret of Object.values(REAL)) expect(exit.stdout + exit.stderr).not.toContain(secret);
      }
    },
  );

  it('listens on 127.0.0.1 only, and a signal ends it with exit 0 while a connection is open, freeing the port', async () => {
    const { cli, printed } = await started('finexer');
    const port = Number(new URL(printed.url).port);
    // 127.0.0.2 reaches this machine too (all of 127/8 is loopback on Linux), as any other interface would: a server on 0.0.0.0 or :: accepts there.
    const others = [
      '127.0.0.2',
      ...Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address),
    ];
    for (const host of others) expect(await accepts(host, port), host).toBe(false);
    expect(await accepts('127.0.0.1', port)).toBe(true);
    // An idle keep-alive connection, as a client's pool holds one: closing must not wait for it.
    const idle = connect({ host: '127.0.0.1', port });
    // Closing resets it: the reset is expected, not an error of the test.
    idle.on('error', () => undefined);
    await new Promise((resolve) => idle.once('connect', resolve));
    const exit = await stop(cli);
    idle.destroy();
    expect(exit.code).toBe(0);
    expect(await accepts('127.0.0.1', port)).toBe(false);
  });

  it('a request it cannot read (a Host past port 65535) is answered, and it serves on', async () => {
    const { cli, printed } = await started('fdx');
    try {
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(printed.url).port) });
      const answer = new Promise<string>((resolve) => {
        let text = '';
        socket.setTimeout(5_000, () => socket.destroy());
        socket.on('data', (chunk) => (text += chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(text.split('\r\n')[0]!));
      });
      socket.write('GET /fdx/v4/accounts HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(await curl('--output', '/dev/null', '--write-out', '%{http_code}', `${printed.url}/fdx/v4/accounts`)).toBe('401');
    } finally {
      const exit = await stop(cli);
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe('');
    }
  });

  it('a port in use is one line on stderr: port_in_use, exit 1', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const exit = await portico(['mock', 'fdx', '--port', String(port)], { cwd: work, env }).exit;
      expect(exit.code).toBe(1);
      expect(exit.stdout).toBe('');
      expect(exit.stderr).toBe(
        `portico: CliError [port_in_use]: port ${port} on 127.0.0.1 is in use; pass --port with a free one, or leave it out for any\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('a bad provider or port is one line and exit 2, before anything listens', async () => {
    expect(await run(['mock', 'stripe'])).toEqual({
      code: 2,
      out: '',
      err: 'portico: CliError [unknown_provider]: unknown provider "stripe"; known providers: dapi, dexero-fd, expertfile, fdx, finexer',
    });
    for (const port of ['http', '65536', '-1', '1e3', ' 80', '', '0x50', '4010.5']) {
      const result = await run(['mock', 'fdx', `--port=${port}`]);
      expect(result, port).toEqual({
        code: 2,
        out: '',
        err: `portico: CliError [invalid_port]: --port must be 0-65535 (0: any free port), got "${port}"`,
      });
    }
    expect((await run(['mock'])).err).toBe(
      'portico: CliError [invalid_arguments]: usage: portico mock <provider> [options] (see portico mock --help)',
    );
  });

  it('login and call do not load @portico/mock: only the mock command imports it', async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/bin.ts', import.meta.url))],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      conditions: ['@portico/source'],
      outdir: join(work, 'bundle'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const [entry] = Object.values(result.metafile.outputs).filter((output) => output.entryPoint?.endsWith('src/bin.ts'));
    const loaded = Object.keys(entry!.inputs);
    expect(loaded.some((input) => input.endsWith('src/login.ts'))).toBe(true);
    expect(loaded.filter((input) => /packages\/mock\/|node_modules\/.*\bajv\b|src\/mock\.ts$/.test(input))).toEqual([]);
  });

  it('is in the help', async () => {
    expect((await run(['--help'])).out).toMatch(/^ {2}portico mock <provider> \[options\] +Serve a provider's fake/m);
    const help = await run(['mock', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--port <port>');
    expect(help.out).toContain('portico mock fdx');
  });
});
