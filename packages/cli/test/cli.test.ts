// The command line with generated inputs: whatever path, parameter or body a
// user types, portico answers with a typed one-line error or a valid call,
// and never sends a request it has not checked.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../testing/src/util.js';
import { authFor } from '../src/call.js';
import { type CatalogProvider, providers, resolveCall } from '../src/catalog.js';
import { main } from '../src/cli.js';
import { CliError } from '../src/errors.js';
import { redirectPage } from '../src/login.js';
import { configDir, defaultTokensPath, inConfigDir, readTokensFile, writeTokensFile } from '../src/tokens-file.js';

const work = mkdtempSync(join(tmpdir(), 'portico-cli-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.unstubAllGlobals());

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const provider = fc.constantFrom(...providers());
const segment = fc.stringMatching(/^[\w.~%{}-]{0,12}$/);
const path = fc.array(fc.oneof(segment, fc.string({ maxLength: 8 })), { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);

describe('portico call checks before it sends', () => {
  it('any path and parameters resolve to an operation of the spec or a typed CliError', () => {
    fc.assert(
      fc.property(
        provider,
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'get'),
        path,
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        (p, method, userPath, pairs) => {
          try {
            const { operation, params } = resolveCall(p, method, userPath, pairs);
            expect(p.operations).toContain(operation);
            expect(operation.method).toBe(method.toUpperCase());
            for (const name of Object.keys({ ...params.path, ...params.query, ...params.header })) {
              expect(operation.params.map((x) => x.name)).toContain(name);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(CliError);
            expect((error as CliError).code).toMatch(/^(unknown|invalid|missing|unsupported)_/);
            expect((error as Error).message).not.toMatch(/undefined|\[object/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a concrete path fills the path parameters of its template', () => {
    const fdx = providers().find((p) => p.slug === 'fdx')!;
    fc.assert(
      fc.property(fc.stringMatching(/^[\w.~-]{1,20}$/), (id) => {
        const { operation, params } = resolveCall(fdx, 'GET', `/accounts/${id}/transactions`, []);
        expect(operation.path).toBe('/accounts/{accountId}/transactions');
        expect(params.path).toEqual({ accountId: id });
      }),
    );
  });

  it('a body that is not JSON is refused with exit 2, before any request', async () => {
    const fetch = vi.fn(async () => new Response('{}'));
    vi.stubGlobal('fetch', fetch);
    vi.stubEnv('DAPI_ACCESS_TOKEN', 'token-for-tests');
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), async (body) => {
        fc.pre(
          (() => {
            try {
              JSON.parse(body);
              return false;
            } catch {
              return !body.startsWith('@');
            }
          })(),
        );
        const result = await run(['call', 'dapi', 'POST', '/data/accounts/get', '--body', body]);
        expect(result.code).toBe(2);
        // A body that looks like an option (`-x`) is refused by the parser as ambiguous instead.
        expect(result.err).toMatch(/^portico: CliError \[(invalid_body|invalid_arguments)\]: [^\n]+$/);
      }),
      { numRuns: 100 },
    );
    expect(fetch).not.toHaveBeenCalled();
    vi.unstubAllEnvs();
  });

  it('an unknown command or option is one line and exit 2', async () => {
    expect(await run(['frobnicate'])).toMatchObject({
      code: 2,
      err: 'portico: CliError [unknown_command]: unknown command "frobnicate"; commands: login, call, mock, providers (see portico --help)',
    });
    const unknown = await run(['call', 'fdx', 'GET', '/accounts', '--client-secret', 'hunter2']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^portico: CliError \[invalid_arguments\]: Unknown option '--client-secret'/);
    expect(unknown.err).not.toContain('hunter2');
    // Listing the valid operations too: one line.
    const path = await run(['call', 'fdx', 'GET', '/nowhere']);
    expect(path.code).toBe(2);
    expect(path.err).toMatch(
      /^portico: CliError \[unknown_path\]: fdx has no path \/nowhere; its operations: (GET|POST|PUT|DELETE) \/[^\n]*, GET \/customers\/current, [^\n]*$/,
    );
  });

  it('values stay exactly as typed (no number coercion): the client id reaches the authorization URL', async () => {
    vi.stubEnv('FDX_CLIENT_SECRET', 'secret-for-tests');
    const port = String(await freePort());
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9][0-9.xXeE+]{0,11}$/), async (clientId) => {
        const result = await run([
          'login',
          'fdx',
          '--client-id',
          clientId,
          '--auth-url',
          'http://127.0.0.1:1',
          '--port',
          port,
          '--timeout',
          '0.05',
          '--no-open',
        ]);
        const url = new URL(result.out.match(/http:\/\/127\.0\.0\.1:1\/\S+/)![0]);
        expect(url.searchParams.get('client_id')).toBe(clientId);
        expect(result).toMatchObject({ code: 1, err: expect.stringMatching(/^portico: CliError \[login_timeout\]/) });
        expect(result.out + result.err).not.toContain('secret-for-tests');
      }),
      { numRuns: 10 },
    );
    vi.unstubAllEnvs();
  });
});

describe('tokens file', () => {
  it('round-trips any token set, owner-only, replacing the previous file', () => {
    const file = join(work, 'nested', 'fdx.json');
    fc.assert(
      fc.property(
        // An access token a header can carry: what a token endpoint may send and the file is checked for.
        fc.stringMatching(/^[\x21-\x7e]+$/),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        (accessToken, refreshToken, expiresAt) => {
          const tokens = {
            accessToken,
            tokenType: 'bearer',
            raw: {},
            ...(refreshToken === undefined ? {} : { refreshToken }),
            ...(expiresAt === undefined ? {} : { expiresAt }),
          };
          writeTokensFile(file, { provider: 'fdx', clientId: 'app', tokens });
          expect(statSync(file).mode & 0o777).toBe(0o600);
          expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
          expect(readTokensFile(file, 'fdx').tokens).toEqual(tokens);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("lives in the user's config directory on each platform, never under the working directory", () => {
    const home = '/home/ada';
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', home)).toBe('/xdg/portico');
    expect(configDir({}, 'linux', home)).toBe('/home/ada/.config/portico');
    // The XDG spec says to ignore a relative value; taken as is, it would put the tokens in the cwd.
    expect(configDir({ XDG_CONFIG_HOME: '.config' }, 'freebsd', home)).toBe('/home/ada/.config/portico');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' }, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/portico');
    expect(configDir({ APPDATA: 'C:/Users/ada/AppData/Roaming' }, 'win32', 'C:/Users/ada')).toBe(
      join('C:/Users/ada/AppData/Roaming', 'portico'),
    );
    expect(configDir({}, 'win32', 'C:/Users/ada')).toBe(join('C:/Users/ada', 'AppData', 'Roaming', 'portico'));
  });

  it('the config directory is made owner-only, even when it already existed open to others', () => {
    vi.stubEnv('XDG_CONFIG_HOME', join(work, 'xdg'));
    try {
      mkdirSync(configDir(), { recursive: true, mode: 0o755 });
      expect(statSync(configDir()).mode & 0o777).toBe(0o755);
      writeTokensFile(defaultTokensPath('fdx'), {
        provider: 'fdx',
        clientId: 'app',
        tokens: { accessToken: 'a', tokenType: 'bearer', raw: {} },
      });
      expect(statSync(configDir()).mode & 0o777).toBe(0o700);
      expect(statSync(defaultTokensPath('fdx')).mode & 0o777).toBe(0o600);
      expect(inConfigDir(defaultTokensPath('fdx'))).toBe(true);
      expect(inConfigDir(join(configDir(), '..', 'fdx.json'))).toBe(false);
      expect(inConfigDir(join('.portico', 'fdx.json'))).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a missing, foreign or broken file is a typed error naming the fix', () => {
    expect(() => readTokensFile(join(work, 'none.json'), 'fdx')).toThrow(/run: portico login fdx/);
    writeTokensFile(join(work, 'other.json'), {
      provider: 'finexer',
      clientId: 'app',
      tokens: { accessToken: 'a', tokenType: 'bearer', raw: {} },
    });
    expect(() => readTokensFile(join(work, 'other.json'), 'fdx')).toThrow(CliError);
    expect(readFileSync(join(work, 'other.json'), 'utf8')).toContain('"finexer"');
  });
});

describe('the page portico login opens in the browser', () => {
  // The authorization URL comes from --auth-url: whatever it holds stays a URL, in the script and in each attribute.
  it('leads to the authorization URL, whatever it holds, and nothing in it ends the script or an attribute', () => {
    const decode = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    fc.assert(
      fc.property(
        fc.webUrl(),
        fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '&', '/', 'script', ';', '\u2028', 'a') }),
        (base, tail) => {
          const url = base + tail;
          const page = redirectPage(url);
          expect(page.match(/<\/?script/gi)).toEqual(['<script', '</script']);
          expect(JSON.parse(page.match(/<script>location\.replace\((.*)\)<\/script>/s)![1]!)).toBe(url);
          expect(decode(page.match(/<meta http-equiv="refresh" content="0;url=([^"<>]*)">/)![1]!)).toBe(url);
          expect(decode(page.match(/<a href="([^"<>]*)">/)![1]!)).toBe(url);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('portico call: a credential the user holds, from the environment', () => {
  // A provider of held credentials only (HTTP Basic or an API key, like Adyen's published document).
  const held: CatalogProvider = {
    slug: 'acme-pay',
    title: 'Acme Pay',
    auth: {
      description: '',
      grants: [],
      pkce: false,
      scopes: [],
      relativeEndpoints: false,
      credentials: [['username', 'password'], ['apiKey']],
    },
    operations: [],
  };
  afterEach(() => vi.unstubAllEnvs());

  it('reads each field of the first alternative whose variables are all set', async () => {
    vi.stubEnv('ACME_PAY_API_KEY', 'acme-key-0123456789');
    vi.stubEnv('ACME_PAY_USERNAME', 'acme-user');
    expect(await authFor(held, {})).toEqual({ apiKey: 'acme-key-0123456789' });
    vi.stubEnv('ACME_PAY_PASSWORD', 'acme-password-0123');
    expect(await authFor(held, {})).toEqual({ username: 'acme-user', password: 'acme-password-0123' });
  });

  it('with none set, a missing_credentials error names every way, and no value', async () => {
    vi.stubEnv('ACME_PAY_USERNAME', 'acme-user');
    const error = await authFor(held, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('missing_credentials');
    expect((error as Error).message).toBe('set ACME_PAY_USERNAME and ACME_PAY_PASSWORD, or ACME_PAY_API_KEY');
  });
});
