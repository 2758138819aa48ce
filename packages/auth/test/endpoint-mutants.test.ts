// The token-endpoint request and response code, called directly with a `fetch`
// that records what it is given: which secret goes where, Basic encoding, body
// formats, URL templates, size limits, error fields and their redaction, and
// the parsing of token responses. Each test pins behaviour a StrykerJS mutant
// of src/endpoint.ts changed without any other test noticing.
import { rejectionOf, thrownBy } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { callEndpoint, extractError, fillParameters, parseTokenResponse, RFC6749_ERROR, safeText } from '../src/endpoint.js';
import { ConfigurationError, ConnectionError, OAuthError, ResponseTooLargeError, TokenResponseError } from '../src/errors.js';
import type { AuthProfile, BodyFormat, ClientAuthentication, ParameterMap } from '../src/profile.js';

interface Recorded {
  url: string;
  init: RequestInit;
}

/** A fetch that records each call and answers with `answer()`. */
function recorder(answer: () => Response | Promise<Response> = () => Response.json({ ok: true })) {
  const calls: Recorded[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

interface CallOptions {
  clientAuthentication?: ClientAuthentication;
  bodyFormat?: BodyFormat;
  parameters?: ParameterMap;
  values?: Record<string, string | undefined>;
  inputs?: string[];
  scheme?: string;
  signal?: AbortSignal;
  fetch: typeof globalThis.fetch;
}

function call(options: CallOptions) {
  return callEndpoint({
    url: new URL('https://auth.example.test/oauth/token?tenant=t1'),
    clientAuthentication: options.clientAuthentication ?? 'none',
    bodyFormat: options.bodyFormat ?? 'form',
    parameters: options.parameters ?? { grant_type: 'client_credentials' },
    values: options.values ?? {},
    inputs: options.inputs,
    apply: { header: 'authorization', scheme: options.scheme ?? 'Bearer' },
    fetch: options.fetch,
    what: 'token endpoint',
    signal: options.signal,
  });
}

function headersOf(recorded: Recorded): Record<string, string> {
  return recorded.init.headers as Record<string, string>;
}

describe('fillParameters', () => {
  it('fills only a whole {name} template, and drops a template whose value is undefined', () => {
    expect(
      fillParameters({ a: 'x{code}', b: '{code}y', c: '{code}', d: '{missing}', e: 'literal', f: '{}' }, { code: 'C', missing: undefined }),
    ).toEqual([
      ['a', 'x{code}'],
      ['b', '{code}y'],
      ['c', 'C'],
      ['e', 'literal'],
      ['f', '{}'],
    ]);
  });
});

describe('callEndpoint: what is sent where', () => {
  it('counts exactly the standard credential values and the declared inputs as secrets', async () => {
    const { fetch } = recorder();
    const values = {
      clientId: 'the-client-id',
      clientSecret: 'v-client-secret',
      code: 'v-code',
      codeVerifier: 'v-code-verifier',
      refreshToken: 'v-refresh-token',
      accessToken: 'v-access-token',
      token: 'v-token',
      scope: 'v-scope',
      redirectUri: 'https://app.example.test/cb',
      // Not a declared input: a plain value, whatever its name.
      'Stryker was here': 'v-undeclared',
      appSecret: 'v-app-secret',
    };
    const result = await call({ fetch, values, inputs: ['appSecret'] });
    expect([...result.secrets].sort()).toEqual(
      ['v-client-secret', 'v-code', 'v-code-verifier', 'v-refresh-token', 'v-access-token', 'v-token', 'v-app-secret'].sort(),
    );
    const bare = await call({ fetch, values });
    expect(bare.secrets).not.toContain('v-undeclared');
    expect(bare.secrets).not.toContain('v-app-secret');
  });

  it('client_secret_basic: form-encodes id and secret, Base64s them into the Authorization header, nothing in the body', async () => {
    const { calls, fetch } = recorder();
    const result = await call({
      fetch,
      clientAuthentication: 'client_secret_basic',
      values: { clientId: 'id:with space', clientSecret: 's+e/c%r"e t' },
    });
    const expected = btoa(
      `${new URLSearchParams({ v: 'id:with space' }).toString().slice(2)}:${new URLSearchParams({ v: 's+e/c%r"e t' }).toString().slice(2)}`,
    );
    expect(headersOf(calls[0]!).authorization).toBe(`Basic ${expected}`);
    expect(calls[0]!.init.body).toBe('grant_type=client_credentials');
    expect(calls[0]!.url).toBe('https://auth.example.test/oauth/token?tenant=t1');
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.init.redirect).toBe('manual');
    expect(result.secrets).toContain(expected);
  });

  it.each([
    ['client_secret_basic', { clientSecret: 's' }, 'clientId'],
    ['client_secret_basic', { clientId: 'i' }, 'clientSecret'],
    ['client_secret_basic', { clientId: 'i', clientSecret: '' }, 'clientSecret'],
    ['client_secret_basic', { clientId: '', clientSecret: 's' }, 'clientId'],
    ['client_secret_post', { clientSecret: 's' }, 'clientId'],
    ['client_secret_post', { clientId: 'i' }, 'clientSecret'],
    ['client_secret_post', { clientId: 'i', clientSecret: '' }, 'clientSecret'],
    ['bearer', {}, 'an access token'],
    ['bearer', { accessToken: '' }, 'an access token'],
  ] as const)('%s with %j: a ConfigurationError naming %s, and nothing sent', async (clientAuthentication, values, name) => {
    const { calls, fetch } = recorder();
    const error = await rejectionOf(call({ fetch, clientAuthentication, values }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(`the token endpoint needs ${name}`);
    expect(calls).toHaveLength(0);
  });

  it('a declared input without a value is a ConfigurationError naming it', async () => {
    const { calls, fetch } = recorder();
    const error = await rejectionOf(call({ fetch, values: { appSecret: '' }, inputs: ['appSecret'] }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe('the token endpoint needs the input "appSecret"');
    expect(calls).toHaveLength(0);
  });

  it('client_secret_post: client_id and client_secret go first in the body, and no Authorization header', async () => {
    const { calls, fetch } = recorder();
    await call({ fetch, clientAuthentication: 'client_secret_post', values: { clientId: 'cid', clientSecret: 'csecret' } });
    expect(calls[0]!.init.body).toBe('client_id=cid&client_secret=csecret&grant_type=client_credentials');
    expect(headersOf(calls[0]!).authorization).toBeUndefined();
    expect(headersOf(calls[0]!)['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('client_secret_post: a parameter the profile already sends as client_id or client_secret is not sent twice', async () => {
    const { calls, fetch } = recorder();
    const values = { clientId: 'cid', clientSecret: 'csecret' };
    await call({ fetch, clientAuthentication: 'client_secret_post', parameters: { client_id: '{clientId}', grant_type: 'x' }, values });
    await call({
      fetch,
      clientAuthentication: 'client_secret_post',
      parameters: { client_secret: '{clientSecret}', grant_type: 'x' },
      values,
    });
    await call({ fetch, clientAuthentication: 'client_secret_post', bodyFormat: 'json', parameters: { client_id: 'fixed' }, values });
    expect(calls[0]!.init.body).toBe('client_secret=csecret&client_id=cid&grant_type=x');
    expect(calls[1]!.init.body).toBe('client_id=cid&client_secret=csecret&grant_type=x');
    expect(calls[2]!.init.body).toBe('{"client_secret":"csecret","client_id":"fixed"}');
    expect(headersOf(calls[2]!)['content-type']).toBe('application/json');
  });

  it('bearer: the access token goes in the Authorization header with the scheme, or bare without one', async () => {
    const { calls, fetch } = recorder();
    await call({ fetch, clientAuthentication: 'bearer', values: { accessToken: 'at-1' }, scheme: 'Token' });
    await call({ fetch, clientAuthentication: 'bearer', values: { accessToken: 'at-2' }, scheme: '' });
    expect(headersOf(calls[0]!).authorization).toBe('Token at-1');
    expect(headersOf(calls[1]!).authorization).toBe('at-2');
    expect(calls[0]!.init.body).toBe('grant_type=client_credentials');
  });

  it('none: no Authorization header at all', async () => {
    const { calls, fetch } = recorder();
    await call({ fetch, values: { clientId: 'cid', clientSecret: 'csecret' } });
    expect(headersOf(calls[0]!)).toEqual({ accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' });
  });

  it("passes the caller's signal to fetch, and none when there is none", async () => {
    const { calls, fetch } = recorder();
    const controller = new AbortController();
    await call({ fetch, signal: controller.signal });
    await call({ fetch });
    expect(calls[0]!.init.signal).toBe(controller.signal);
    expect('signal' in calls[1]!.init).toBe(false);
  });
});

describe('callEndpoint: failures and responses', () => {
  it("a fetch that fails after the caller's abort rejects with the abort reason", async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const fetch = (async () => {
      controller.abort(reason);
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    expect(await rejectionOf(call({ fetch, signal: controller.signal }))).toBe(reason);
  });

  it('a fetch that fails, with or without a signal, is a ConnectionError naming origin and path only', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    for (const signal of [undefined, new AbortController().signal]) {
      const error = await rejectionOf(call({ fetch, signal }));
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).path).toBe('https://auth.example.test/oauth/token');
    }
  });

  it('an opaque redirect (what browsers give for redirect: manual) is reported as 302', async () => {
    const { fetch } = recorder(() => {
      const response = new Response(null, { status: 200 });
      Object.defineProperty(response, 'type', { value: 'opaqueredirect' });
      return response;
    });
    expect((await call({ fetch })).status).toBe(302);
    const plain = recorder(() => new Response('{"a":1}', { status: 201 }));
    expect(await call({ fetch: plain.fetch })).toMatchObject({ status: 201, body: { a: 1 } });
  });

  it('refuses a body over 1 MiB with a ResponseTooLargeError that says which endpoint', async () => {
    const { fetch } = recorder(() => new Response(new Uint8Array(1024 * 1024 + 1), { status: 200 }));
    const error = await rejectionOf(call({ fetch }));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as Error).message).toBe(
      'The HTTP 200 response body is larger than 1048576 bytes; the token endpoint answered with more than any token or error response needs.',
    );
  });

  it('a body that fails mid-read counts as no body, not as an error', async () => {
    const { fetch } = recorder(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              controller.error(new Error('connection reset'));
            },
          }),
          { status: 400 },
        ),
    );
    expect(await call({ fetch })).toEqual({ status: 400, body: undefined, secrets: [] });
  });

  it('without a signal, an empty or non-JSON body comes back as undefined', async () => {
    const empty = recorder(() => new Response('', { status: 500 }));
    const html = recorder(() => new Response('<html>', { status: 502 }));
    expect(await call({ fetch: empty.fetch })).toEqual({ status: 500, body: undefined, secrets: [] });
    expect(await call({ fetch: html.fetch })).toEqual({ status: 502, body: undefined, secrets: [] });
  });
});

describe('safeText and extractError', () => {
  it('redacts and truncates strings, renders numbers and booleans, and gives nothing for anything else', () => {
    expect(safeText('before top-secret after', ['top-secret'])).not.toContain('top-secret');
    expect(safeText('before top-secret after', ['top-secret'])).toContain('before');
    expect(safeText('x'.repeat(1000), [])).toBe('x'.repeat(500));
    expect(safeText(42, [])).toBe('42');
    expect(safeText(false, [])).toBe('false');
    expect(safeText(true, [])).toBe('true');
    expect(safeText('', [])).toBeUndefined();
    expect(safeText(null, [])).toBeUndefined();
    expect(safeText({ a: 1 }, [])).toBeUndefined();
    expect(safeText(undefined, [])).toBeUndefined();
  });

  it('RFC6749_ERROR reads error, error_description and error_uri, redacted', () => {
    expect(
      extractError(
        { error: 'invalid_client', error_description: 'bad s3cr3t-value', error_uri: 'https://e.test/s3cr3t-value' },
        RFC6749_ERROR,
        ['s3cr3t-value'],
      ),
    ).toEqual({
      error: 'invalid_client',
      errorDescription: expect.not.stringContaining('s3cr3t-value'),
      errorUri: expect.not.stringContaining('s3cr3t-value'),
    });
    expect(RFC6749_ERROR).toEqual({ code: '/error', description: '/error_description', uri: '/error_uri' });
  });
});

function profile(response: Partial<AuthProfile['token']['response']> = {}, extra: Partial<AuthProfile> = {}): AuthProfile {
  return {
    grants: ['client_credentials'],
    token: {
      url: 'https://auth.example.test/token',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      grants: { client_credentials: { parameters: { grant_type: 'client_credentials' } } },
      response: { accessToken: '/access_token', tokenType: '/token_type', defaultTokenType: 'Bearer', ...response },
    },
    apply: { header: 'authorization', scheme: 'Bearer' },
    ...extra,
  };
}

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

function parse(body: unknown, options: { status?: number; profile?: AuthProfile; requestedScope?: string[]; secrets?: string[] } = {}) {
  return parseTokenResponse(
    options.profile ?? profile(),
    { status: options.status ?? 200, body, secrets: options.secrets ?? [] },
    { now: NOW, requestedScope: options.requestedScope },
  );
}

function parseError(body: unknown, options: Parameters<typeof parse>[1] = {}) {
  return thrownBy(() => parse(body, options)) as TokenResponseError & OAuthError;
}

describe('parseTokenResponse: statuses', () => {
  it.each([300, 302, 399])('HTTP %i is a redirect, refused', (status) => {
    const error = parseError({ access_token: 'a', token_type: 'Bearer' }, { status });
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe(`the token endpoint answered with a redirect (HTTP ${status}), which is not followed`);
    expect(error.status).toBe(status);
  });

  it.each([199, 400, 500])('HTTP %i is an error even when the body holds an access token', (status) => {
    const error = parseError({ access_token: 'a', token_type: 'Bearer' }, { status });
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe(`the token endpoint answered HTTP ${status}`);
    expect(error.status).toBe(status);
  });

  it('an error status without a JSON body says so', () => {
    const error = parseError(undefined, { status: 503 });
    expect(error.message).toBe('the token endpoint answered HTTP 503 without a JSON body');
  });

  it('an error status with an RFC 6749 error body is an OAuthError with its fields, redacted, when the profile has no error map', () => {
    const error = parseError(
      { error: 'invalid_grant', error_description: 'code c0de-secret is spent', error_uri: 'https://e.test/doc' },
      { status: 400, secrets: ['c0de-secret'] },
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.error).toBe('invalid_grant');
    expect(error.errorDescription).toContain('is spent');
    expect(error.errorDescription).not.toContain('c0de-secret');
    expect(error.errorUri).toBe('https://e.test/doc');
    expect(error.status).toBe(400);
  });

  it('HTTP 200 with a JSON null, an array or a string is not a token response', () => {
    for (const body of [null, ['a'], 'a', undefined]) {
      const error = parseError(body);
      expect(error).toBeInstanceOf(TokenResponseError);
      expect(error.message).toBe('the token response is not a JSON object');
    }
  });
});

describe('parseTokenResponse: fields', () => {
  it('a success flag that is not true is failure', () => {
    const error = parseError({ ok: false, access_token: 'a', error: 'nope' }, { profile: profile({ success: '/ok' }) });
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe('the token response reports failure');
    expect(error.error).toBe('nope');
    expect(parse({ ok: true, access_token: 'a' }, { profile: profile({ success: '/ok' }) }).accessToken).toBe('a');
  });

  it('an empty or non-string access token is no access token', () => {
    for (const accessToken of ['', 12345, true]) {
      const error = parseError({ access_token: accessToken, token_type: 'Bearer' });
      expect(error).toBeInstanceOf(TokenResponseError);
      expect(error.message).toBe('the token response has no access token at /access_token');
      expect(error.status).toBe(200);
    }
  });

  it('an access token a header cannot carry is refused with the status', () => {
    const error = parseError({ access_token: 'a\nb', token_type: 'Bearer' });
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe('the access token in the token response has characters a header cannot carry (RFC 6750 §2.1)');
    expect(error.status).toBe(200);
  });

  it('a token type the profile does not send is refused, quoted to 40 characters, listing what it sends', () => {
    const tokenType = `mac${'x'.repeat(100)}`;
    const error = parseError({ access_token: 'a', token_type: tokenType }, { profile: profile({ defaultTokenType: 'DPoP' }), status: 201 });
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe(
      `the token endpoint issued an access token of token type ${JSON.stringify(tokenType.slice(0, 40))}, which this provider's profile does not send (it sends bearer, dpop; RFC 6749 §7.1)`,
    );
    expect(error.status).toBe(201);
  });

  it('a token type holding a secret is redacted in the refusal', () => {
    const error = parseError({ access_token: 'a', token_type: 'mac-SeCrEt-1' }, { secrets: ['SeCrEt-1'] });
    expect(error.message).not.toContain('SeCrEt-1');
  });

  it('a profile with neither scheme nor default token type accepts any token type', () => {
    const p = profile({ defaultTokenType: undefined }, { apply: { header: 'x-token', scheme: '' } });
    expect(parse({ access_token: 'a', token_type: 'mac' }, { profile: p }).tokenType).toBe('mac');
  });

  it('a missing or null refresh token is no refresh token', () => {
    const p = profile({ refreshToken: '/refresh_token' });
    expect(parse({ access_token: 'a' }, { profile: p }).refreshToken).toBeUndefined();
    expect(parse({ access_token: 'a', refresh_token: null }, { profile: p }).refreshToken).toBeUndefined();
    expect(parse({ access_token: 'a', refresh_token: 'r' }, { profile: p }).refreshToken).toBe('r');
  });

  it('splits the scope on a space by default, on the profile separator otherwise, trimming and dropping empties', () => {
    const p = profile({ scope: '/scope' });
    expect(parse({ access_token: 'a', scope: ' read  write ' }, { profile: p }).scope).toEqual(['read', 'write']);
    const comma = profile({ scope: '/scope' }, { scope: { separator: ',' } });
    expect(parse({ access_token: 'a', scope: 'read, write,,admin ' }, { profile: comma }).scope).toEqual(['read', 'write', 'admin']);
  });

  it('an omitted scope is the requested scope (RFC 6749 §5.1)', () => {
    const p = profile({ scope: '/scope' });
    expect(parse({ access_token: 'a' }, { profile: p, requestedScope: ['r1', 'r2'] }).scope).toEqual(['r1', 'r2']);
    expect(parse({ access_token: 'a' }, { profile: p }).scope).toBeUndefined();
  });
});

describe('parseTokenResponse: expiry', () => {
  const p = profile({ expiresIn: '/expires_in' });

  it.each([
    [3600, NOW + 3600_000],
    [0, NOW],
    ['120', NOW + 120_000],
    ['1.25', NOW + 1250],
    [1.5, NOW + 1500],
  ])('expires_in %j expires at now + its seconds', (expiresIn, expected) => {
    expect(parse({ access_token: 'a', expires_in: expiresIn }, { profile: p }).expiresAt).toBe(expected);
  });

  it.each(['', ' 12', '12 ', '+5', '1e3', '0x10', 'abc', -1, true, Infinity, { s: 1 }, ['120']])(
    'expires_in %j is refused',
    (expiresIn) => {
      const error = parseError({ access_token: 'a', expires_in: expiresIn }, { profile: p });
      expect(error).toBeInstanceOf(TokenResponseError);
      expect(error.message).toBe('expires_in in the token response is not a non-negative number');
    },
  );

  it('expires_in 1e400 (Infinity once parsed) is refused', () => {
    const error = parseError(JSON.parse('{"access_token":"a","expires_in":1e400}'), { profile: p });
    expect(error).toBeInstanceOf(TokenResponseError);
  });

  it('a missing or null expires_in falls back to expires_at, then to the profile lifetime', () => {
    const both = profile({ expiresIn: '/expires_in', expiresAt: '/expires_at' }, { expiry: { accessTokenLifetimeSeconds: 60 } });
    expect(parse({ access_token: 'a' }, { profile: both }).expiresAt).toBe(NOW + 60_000);
    expect(parse({ access_token: 'a', expires_in: null, expires_at: null }, { profile: both }).expiresAt).toBe(NOW + 60_000);
    expect(parse({ access_token: 'a', expires_in: null, expires_at: '2025-02-01T00:00:00Z' }, { profile: both }).expiresAt).toBe(
      Date.parse('2025-02-01T00:00:00Z'),
    );
    expect(parse({ access_token: 'a' }, { profile: p }).expiresAt).toBeUndefined();
  });

  it('expires_at must be an ISO 8601 string', () => {
    const at = profile({ expiresAt: '/expires_at' });
    for (const value of [1767225600000, 2025, ['2025-02-01T00:00:00Z'], 'not a date', true]) {
      const error = parseError({ access_token: 'a', expires_at: value }, { profile: at, status: 201 });
      expect(error).toBeInstanceOf(TokenResponseError);
      expect(error.message).toBe('the expiry time in the token response is not an ISO 8601 timestamp');
      expect(error.status).toBe(201);
    }
  });

  it('a profile lifetime applies when the response gives none; never wins over it', () => {
    expect(parse({ access_token: 'a' }, { profile: profile({}, { expiry: { accessTokenLifetimeSeconds: 3600 } }) }).expiresAt).toBe(
      NOW + 3600_000,
    );
    expect(
      parse({ access_token: 'a' }, { profile: profile({}, { expiry: { never: true, accessTokenLifetimeSeconds: 3600 } }) }).expiresAt,
    ).toBeUndefined();
    expect(parse({ access_token: 'a' }, { profile: profile() }).expiresAt).toBeUndefined();
  });
});
