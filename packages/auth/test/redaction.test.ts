// Canary secrets on every error path: client secret, Basic header, app secret,
// access code, code, code verifier, access and refresh tokens must not appear
// in a message, util.inspect(err, { depth: Infinity }), JSON.stringify(err) or
// anywhere down the cause chain, even when the server echoes them back.
import { inspect } from 'node:util';
import {
  type DapiEmulator,
  type DexeroFdEmulator,
  type ExpertFileEmulator,
  type FdxEmulator,
  followAuthorization,
  loadProfile,
  type RecordedRequest,
  startDapi,
  startDexeroFd,
  startExpertFile,
  startFdx,
} from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AuthProfile, createAuthenticator, createOAuthFlow, exchangeAccessCode, revokeToken, type Tokens } from '../src/index.js';
import { redact, redactSecrets, toTokens } from '../src/internal.js';
import { expectNoSecrets, rejectionOf } from './helpers.js';

const CLIENT_SECRET = 'CANARY-client-secret:+/% é';
const APP_SECRET = 'CANARY-app-secret-7f3a';
const redirectUri = 'https://app.example/callback';
const basicOf = (id: string, secret: string) =>
  Buffer.from(`${new URLSearchParams({ v: id }).toString().slice(2)}:${new URLSearchParams({ v: secret }).toString().slice(2)}`).toString(
    'base64',
  );

// A server that repeats everything it was sent, the worst case for a log line.
const echo = (request: RecordedRequest) =>
  `body=${request.body} authorization=${request.headers.authorization ?? ''} decoded=${decodeURIComponent(request.body.replace(/\+/g, ' '))}`;

let fd: DexeroFdEmulator;
let ef: ExpertFileEmulator;
let fdx: FdxEmulator;
let dapi: DapiEmulator;

beforeAll(async () => {
  [fd, ef, fdx, dapi] = await Promise.all([
    startDexeroFd({ clientSecret: CLIENT_SECRET }),
    startExpertFile({ clientSecret: CLIENT_SECRET }),
    startFdx({ clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }),
    startDapi({ appSecret: APP_SECRET }),
  ]);
});
afterAll(() => Promise.all([fd.close(), ef.close(), fdx.close(), dapi.close()]));
beforeEach(() => {
  for (const server of [fd, ef, fdx, dapi]) server.reset();
});

const FD_TOKEN = 'POST /oauth/token.action';
const FDX_TOKEN = 'POST /oauth2/v4/token';
const clientSecrets = () => [CLIENT_SECRET, basicOf(fd.clientId, CLIENT_SECRET)];
const fdAuth = (fetchImpl?: typeof fetch) =>
  createAuthenticator(
    loadProfile('dexero-fd').profile,
    { clientId: fd.clientId, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl },
    { baseUrl: fd.apiBaseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) },
  );
const fdxFlow = (baseUrl = fdx.url) =>
  createOAuthFlow(loadProfile('fdx').profile, { clientId: fdx.clientId, clientSecret: CLIENT_SECRET, redirectUri, baseUrl });

async function fdxConnect(): Promise<{ tokens: Tokens; code: string; codeVerifier: string; state: string }> {
  const flow = fdxFlow();
  const request = await flow.authorizationUrl({ scope: 'accounts' });
  const callback = await followAuthorization(request.url, redirectUri);
  const tokens = await flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! });
  return { tokens, code: callback.searchParams.get('code')!, codeVerifier: request.codeVerifier!, state: request.state };
}

describe('redaction canaries: token endpoint errors', () => {
  it('OAuthError whose description and uri echo the request body and Basic header', async () => {
    fd.inject(FD_TOKEN, (r) => ({
      status: 400,
      body: { error: 'invalid_request', error_description: echo(r), error_uri: `https://errors.example/?h=${r.headers.authorization}` },
    }));
    const error = await rejectionOf(fdAuth().getAuthorization());
    expect(error).toMatchObject({ code: 'oauth_error', error: 'invalid_request' });
    expect((error as { errorDescription: string }).errorDescription).toContain('[redacted]');
    expectNoSecrets(error, clientSecrets());
  });

  it('TokenResponseError for an HTML 500 page echoing the request', async () => {
    fd.inject(FD_TOKEN, (r) => ({ status: 500, body: `<html>${echo(r)}</html>`, headers: { 'content-type': 'text/html' } }));
    expectNoSecrets(await rejectionOf(fdAuth().getAuthorization()), clientSecrets());
  });

  it('TokenResponseError for a 200 that carries an access token but no token_type', async () => {
    fd.inject(FD_TOKEN, { status: 200, body: { access_token: 'CANARY-access-token-1', refresh_token: 'CANARY-refresh-token-1' } });
    expectNoSecrets(await rejectionOf(fdAuth().getAuthorization()), [
      'CANARY-access-token-1',
      'CANARY-refresh-token-1',
      ...clientSecrets(),
    ]);
  });

  it('TokenResponseError for truncated JSON holding a token', async () => {
    fd.inject(FD_TOKEN, { status: 200, body: '{"access_token":"CANARY-access-token-2","token_ty' });
    expectNoSecrets(await rejectionOf(fdAuth().getAuthorization()), ['CANARY-access-token-2', ...clientSecrets()]);
  });

  it('TokenResponseError for `success: false` whose msg echoes the client secret (form body)', async () => {
    ef.inject('POST /v2/oauth/token', (r) => ({ status: 200, body: { success: false, msg: echo(r) } }));
    const auth = createAuthenticator(
      loadProfile('expertfile').profile,
      { clientId: ef.clientId, clientSecret: CLIENT_SECRET, tokenUrl: ef.tokenUrl },
      { baseUrl: ef.apiBaseUrl },
    );
    expectNoSecrets(await rejectionOf(auth.getAuthorization()), [CLIENT_SECRET]);
  });

  it('a redirect from the token endpoint whose Location carries secrets', async () => {
    fd.inject(FD_TOKEN, (r) => ({ status: 302, headers: { location: `https://evil.example/?${r.body}&h=${r.headers.authorization}` } }));
    const error = await rejectionOf(fdAuth().getAuthorization());
    expect(error).toMatchObject({ code: 'token_response_error', status: 302 });
    expectNoSecrets(error, clientSecrets());
  });

  it('ConnectionError from a fetch that fails with the request in its message and cause chain', async () => {
    const leakyFetch: typeof fetch = async (input, init) => {
      const headers = JSON.stringify(init?.headers);
      throw new TypeError(`fetch failed for ${String(input)} ${String(init?.body)}`, {
        cause: Object.assign(new Error(`socket hang up; headers ${headers}`), { code: 'ECONNRESET', headers: init?.headers }),
      });
    };
    const error = await rejectionOf(fdAuth(leakyFetch).getAuthorization());
    expect(error).toMatchObject({ code: 'connection_error', method: 'POST', cause: { name: 'TypeError', cause: { code: 'ECONNRESET' } } });
    expectNoSecrets(error, clientSecrets());
  });

  it('ConnectionError from a refused connection', async () => {
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: 'id', clientSecret: CLIENT_SECRET, tokenUrl: 'http://127.0.0.1:9/token' },
      { baseUrl: fd.apiBaseUrl },
    );
    const error = await rejectionOf(auth.getAuthorization());
    expect(error).toMatchObject({ code: 'connection_error', path: 'http://127.0.0.1:9/token' });
    expectNoSecrets(error, clientSecrets());
  });
});

describe('redaction canaries: authorization code, refresh and revocation', () => {
  it('code exchange failure echoing the code and the code verifier', async () => {
    const flow = fdxFlow();
    const request = await flow.authorizationUrl({ scope: 'accounts' });
    const callback = await followAuthorization(request.url, redirectUri);
    fdx.inject(FDX_TOKEN, (r) => ({ status: 400, body: { error: 'invalid_grant', error_description: echo(r) } }));
    const error = await rejectionOf(flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! }));
    expectNoSecrets(error, [
      callback.searchParams.get('code')!,
      request.codeVerifier!,
      CLIENT_SECRET,
      basicOf(fdx.clientId, CLIENT_SECRET),
    ]);
  });

  it('ReauthorizationRequiredError from invalid_grant echoing the refresh token', async () => {
    const { tokens } = await fdxConnect();
    fdx.inject(FDX_TOKEN, (r) => ({ status: 400, body: { error: 'invalid_grant', error_description: echo(r) } }));
    const error = await rejectionOf(fdxFlow().refresh(tokens));
    expect(error).toMatchObject({ code: 'reauthorization_required' });
    expectNoSecrets(error, [tokens.refreshToken!, tokens.accessToken, CLIENT_SECRET, basicOf(fdx.clientId, CLIENT_SECRET)]);
  });

  it('ReauthorizationRequiredError through a session (getAuthorization path)', async () => {
    const { tokens } = await fdxConnect();
    const session = fdxFlow().session({ ...tokens, expiresAt: Date.now() - 1 });
    fdx.inject(FDX_TOKEN, (r) => ({ status: 400, body: { error: 'invalid_grant', error_description: echo(r) } }));
    expectNoSecrets(await rejectionOf(session.getAuthorization()), [tokens.refreshToken!, tokens.accessToken, CLIENT_SECRET]);
  });

  it('RevocationError (400, 503) echoing the revoked token, and a network failure while revoking', async () => {
    const { tokens } = await fdxConnect();
    const secrets = [tokens.refreshToken!, tokens.accessToken, CLIENT_SECRET, basicOf(fdx.clientId, CLIENT_SECRET)];
    fdx.inject('POST /oauth2/v4/revoke', (r) => ({ status: 400, body: { error: 'invalid_request', error_description: echo(r) } }));
    expectNoSecrets(await rejectionOf(fdxFlow().revoke(tokens)), secrets);
    fdx.inject('POST /oauth2/v4/revoke', (r) => ({ status: 503, body: echo(r) }));
    expectNoSecrets(await rejectionOf(fdxFlow().revoke(tokens)), secrets);
    expectNoSecrets(await rejectionOf(fdxFlow('http://127.0.0.1:9').revoke(tokens)), secrets);
  });

  it('AuthorizationCallbackError from a callback whose error_description echoes secrets', async () => {
    const flow = fdxFlow();
    const request = await flow.authorizationUrl({ scope: 'accounts' });
    const callback = new URL(redirectUri);
    callback.searchParams.set('error', 'server_error');
    callback.searchParams.set('error_description', `failed for ${CLIENT_SECRET} / ${request.codeVerifier}`);
    callback.searchParams.set('state', request.state);
    const error = await rejectionOf(flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! }));
    expect(error).toMatchObject({ code: 'authorization_error', error: 'server_error' });
    expectNoSecrets(error, [CLIENT_SECRET, request.codeVerifier!]);
  });

  it('ConfigurationError for a malformed code verifier does not quote it', async () => {
    const flow = fdxFlow();
    const request = await flow.authorizationUrl({ scope: 'accounts' });
    const callback = `${redirectUri}?code=abc&state=${request.state}`;
    expectNoSecrets(await rejectionOf(flow.exchangeCode(callback, { state: request.state, codeVerifier: 'CANARY verifier with spaces' })), [
      'CANARY verifier with spaces',
    ]);
  });

  it('InsecureUrlError shows only scheme and host of a URL carrying a secret', () => {
    const error = (() => {
      try {
        createAuthenticator(
          loadProfile('dexero-fd').profile,
          { clientId: 'id', clientSecret: CLIENT_SECRET, tokenUrl: `http://token.example/x?client_secret=${CLIENT_SECRET}` },
          { baseUrl: 'https://api.example' },
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: 'insecure_url', origin: 'http://token.example' });
    expectNoSecrets(error, [CLIENT_SECRET]);
  });
});

describe('redaction canaries: Dapi exchange and delink', () => {
  it('a failed exchange whose msg echoes the access code, and one echoing the app secret', async () => {
    const { profile } = loadProfile('dapi');
    const connect = dapi.connect();
    const inputs = { appSecret: APP_SECRET, accessCode: connect.accessCode, connectionID: connect.connectionID };
    await exchangeAccessCode(profile, inputs, { baseUrl: dapi.apiBaseUrl });
    const reused = await rejectionOf(exchangeAccessCode(profile, inputs, { baseUrl: dapi.apiBaseUrl }));
    expect(reused).toMatchObject({ error: 'INVALID_ACCESS_CODE', errorDescription: expect.stringContaining('[redacted]') });
    expectNoSecrets(reused, [APP_SECRET, connect.accessCode]);
    dapi.inject('POST /v2/auth/ExchangeToken', (r) => ({ status: 500, body: { success: false, type: 'ERR', msg: r.body } }));
    expectNoSecrets(await rejectionOf(exchangeAccessCode(profile, inputs, { baseUrl: dapi.apiBaseUrl })), [APP_SECRET, connect.accessCode]);
  });

  it('a missing input names the input, not the other inputs', async () => {
    const error = await rejectionOf(
      exchangeAccessCode(loadProfile('dapi').profile, { appSecret: APP_SECRET, accessCode: 'CANARY-code-9' }, { baseUrl: dapi.apiBaseUrl }),
    );
    expect(error).toMatchObject({ code: 'configuration_error', message: expect.stringContaining('connectionID') });
    expectNoSecrets(error, [APP_SECRET, 'CANARY-code-9']);
  });

  it('a failed delink echoing the user secret and the bearer token', async () => {
    const { profile } = loadProfile('dapi');
    const connect = dapi.connect();
    const tokens = await exchangeAccessCode(
      profile,
      { appSecret: APP_SECRET, accessCode: connect.accessCode, connectionID: connect.connectionID },
      { baseUrl: dapi.apiBaseUrl },
    );
    dapi.inject('POST /v2/users/DelinkUser', (r) => ({ status: 200, body: { success: false, type: 'X', msg: echo(r) } }));
    const error = await rejectionOf(
      revokeToken(profile, tokens, { baseUrl: dapi.apiBaseUrl, inputs: { appSecret: APP_SECRET, userSecret: connect.userSecret } }),
    );
    expectNoSecrets(error, [APP_SECRET, connect.userSecret, tokens.accessToken]);
  });
});

describe('redaction of data objects', () => {
  it('Tokens inspect redacted but stay plain data for JSON persistence', async () => {
    const { tokens } = await fdxConnect();
    const shown = inspect(tokens, { depth: Infinity });
    expect(shown).not.toContain(tokens.accessToken);
    expect(shown).not.toContain(tokens.refreshToken);
    expect(shown).toContain("accessToken: '[redacted]'");
    expect(JSON.parse(JSON.stringify(tokens))).toEqual({ ...tokens });
    expect(tokens.raw.access_token).toBe(tokens.accessToken);
  });

  it('authenticators, sessions and flows do not show their secrets when inspected', async () => {
    const { tokens } = await fdxConnect();
    const objects = [fdxFlow(), fdxFlow().session(tokens), fdAuth()];
    for (const object of objects) {
      const shown = inspect(object, { depth: Infinity, showHidden: true });
      for (const secret of [CLIENT_SECRET, tokens.accessToken, tokens.refreshToken!]) expect(shown).not.toContain(secret);
    }
  });

  it('redact() replaces sensitive keys at any depth and keeps the rest', () => {
    const profile: AuthProfile = loadProfile('fdx').profile;
    expect(
      redact({
        headers: { Authorization: 'Bearer x', 'Set-Cookie': 'a=b', accept: 'json' },
        body: [
          {
            access_token: 'a',
            refresh_token: 'r',
            id_token: 'i',
            token_type: 'Bearer',
            client_secret: 's',
            code_verifier: 'v',
            appSecret: 'p',
            accessCode: 'c',
            expires_in: 3,
          },
        ],
        profile: profile.apply,
      }),
    ).toEqual({
      headers: { Authorization: '[redacted]', 'Set-Cookie': '[redacted]', accept: 'json' },
      body: [
        {
          access_token: '[redacted]',
          refresh_token: '[redacted]',
          id_token: '[redacted]',
          token_type: 'Bearer',
          client_secret: '[redacted]',
          code_verifier: '[redacted]',
          appSecret: '[redacted]',
          accessCode: '[redacted]',
          expires_in: 3,
        },
      ],
      profile: profile.apply,
    });
  });
});

describe('redactSecrets and redact, case by case', () => {
  const secret = 'a"b\\c d+e%f/é&g=h';
  it.each([
    ['as it is', secret],
    ['percent-encoded', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ v: secret }).toString().slice(2)],
    ['JSON-escaped, inside a JSON string', JSON.stringify(secret).slice(1, -1)],
  ])('cuts a secret spelled %s out of the middle of a text', (_name, spelling) => {
    expect(redactSecrets(`before ${spelling} after`, [secret])).toBe('before [redacted] after');
  });

  it('cuts the longer of two secrets whole when one holds the other, in either order', () => {
    const short = 'abcdefgh';
    const long = 'abcdefgh-ijklmnop';
    expect(redactSecrets(`x ${long} y`, [short, long])).toBe('x [redacted] y');
    expect(redactSecrets(`x ${long} y`, [long, short])).toBe('x [redacted] y');
  });

  it('a secret holding half a surrogate pair (no percent-encoding) is still cut, never a URIError', () => {
    const lone = 'half-\ud800-pair-0123';
    expect(redactSecrets(`before ${lone} after`, [lone])).toBe('before [redacted] after');
  });

  it('leaves values under 8 characters alone, so a message is not shredded', () => {
    expect(redactSecrets('use a short key here', ['short', 'a'])).toBe('use a short key here');
  });

  it('redact: sensitive keys in any spelling and at any depth, absent values kept absent, cycles cut', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    expect(
      redact({
        access_token: undefined,
        refresh_token: null,
        password: 'p',
        'X-Api-Key': 'k',
        nested: { clientSecret: 's', list: [{ token: 't', id: 1 }] },
        cyclic,
      }),
    ).toStrictEqual({
      access_token: undefined,
      refresh_token: null,
      password: '[redacted]',
      'X-Api-Key': '[redacted]',
      nested: { clientSecret: '[redacted]', list: [{ token: '[redacted]', id: 1 }] },
      cyclic: { name: 'x', self: '[Circular]' },
    });
  });

  it('the redacted inspect view is not copied by a spread, so a copy shows its own fields', () => {
    const tokens = toTokens({ accessToken: 'at-0123456789', tokenType: 'Bearer', raw: {} });
    expect(Object.getOwnPropertySymbols({ ...tokens })).toEqual([]);
  });
});
