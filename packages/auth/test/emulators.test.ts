// Each provider's own flow against its loopback emulator, which follows the
// provider's seed excerpt to the letter and checks the exact request encoding.
// Profiles come from specs/<slug>/openapi.yaml when it exists.

import {
  callApi,
  type DapiEmulator,
  type DexeroFdEmulator,
  type ExpertFileEmulator,
  type FdxEmulator,
  type FinexerEmulator,
  followAuthorization,
  loadProfile,
  startDapi,
  startDexeroFd,
  startExpertFile,
  startFdx,
  startFinexer,
} from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthorizationDeniedError,
  createAuthenticator,
  createOAuthFlow,
  exchangeAccessCode,
  OAuthError,
  ReauthorizationRequiredError,
  revokeToken,
  TokenResponseError,
  type Tokens,
} from '../src/index.js';
import { FakeClock } from './helpers.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe(`dexero-fd (seed 000): client credentials with HTTP Basic`, () => {
  const { profile } = loadProfile('dexero-fd');
  let fd: DexeroFdEmulator;
  beforeAll(async () => {
    fd = await startDexeroFd();
  });
  afterAll(() => fd.close());
  beforeEach(() => fd.reset());

  const auth = () =>
    createAuthenticator(
      profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
      { baseUrl: fd.apiBaseUrl },
    );

  it('POSTs exactly `scope=read&grant_type=client_credentials` as a form, with Basic base64(urlencode(id):urlencode(secret))', async () => {
    await auth().getAuthorization();
    const [request] = fd.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/oauth/token.action',
      contentType: 'application/x-www-form-urlencoded',
      body: 'scope=read&grant_type=client_credentials',
    });
    expect(request!.headers.authorization).toBe(`Basic ${b64('dexero-client:s3cr%3Aet%2B%2F%25')}`);
    expect(request!.headers.accept).toBe('application/json');
  });

  it('maps the RFC 6749 §5.1 answer and calls the API with the cached Bearer token', async () => {
    const authenticator = auth();
    for (let i = 0; i < 3; i++) expect((await callApi(authenticator, `${fd.apiBaseUrl}/records.json`)).response.status).toBe(200);
    expect(fd.count('POST /oauth/token.action')).toBe(1);
    expect(
      fd.requests.filter((r) => r.path.endsWith('records.json')).every((r) => r.headers.authorization?.startsWith('Bearer dexero_at_')),
    ).toBe(true);
  });

  it('a wrong secret is an OAuthError invalid_client with status 401', async () => {
    const bad = createAuthenticator(
      profile,
      { clientId: fd.clientId, clientSecret: 'wrong', tokenUrl: fd.tokenUrl },
      { baseUrl: fd.apiBaseUrl },
    );
    await expect(bad.getAuthorization()).rejects.toMatchObject({
      name: 'OAuthError',
      code: 'oauth_error',
      error: 'invalid_client',
      status: 401,
    });
  });
});

describe(`expertfile (seed 003): form credentials, success/data envelope, ISO expiry`, () => {
  const { profile } = loadProfile('expertfile');
  const clock = new FakeClock();
  let ef: ExpertFileEmulator;
  beforeAll(async () => {
    ef = await startExpertFile({ now: clock.now });
  });
  afterAll(() => ef.close());
  beforeEach(() => ef.reset());

  const auth = (onTokens?: (t: Tokens) => void) =>
    createAuthenticator(
      profile,
      { clientId: ef.clientId, clientSecret: ef.clientSecret, tokenUrl: ef.tokenUrl },
      { baseUrl: ef.apiBaseUrl, now: clock.now, ...(onTokens ? { onTokens } : {}) },
    );

  it('POSTs client_id, client_secret, grant_type=client_credentials as a form, without an Authorization header', async () => {
    await auth().getAuthorization();
    const [request] = ef.requests;
    expect(request).toMatchObject({
      path: '/v2/oauth/token',
      contentType: 'application/x-www-form-urlencoded',
      body: 'client_id=ef-client&client_secret=ef-secret&grant_type=client_credentials',
    });
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('reads the token from data.accessToken and the expiry from the ISO data.accessTokenExpiresAt', async () => {
    const seen: Tokens[] = [];
    await auth((t) => seen.push(t)).getAuthorization();
    const [tokens] = seen;
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      accessToken: expect.stringMatching(/^ef_at_/),
      expiresAt: clock.time + 30 * 24 * 3600 * 1000,
    });
    expect(tokens!.raw).toMatchObject({ success: true, data: { client: 'ef-client', user: ef.organization, scope: true } });
    expect(new Date(tokens!.expiresAt!).toISOString()).toBe((tokens!.raw.data as { accessTokenExpiresAt: string }).accessTokenExpiresAt);
  });

  it('renews only near the end of the 30 days', async () => {
    const authenticator = auth();
    await authenticator.getAuthorization();
    clock.advance(29 * 24 * 3600 * 1000);
    await authenticator.getAuthorization();
    expect(ef.count('POST /v2/oauth/token')).toBe(1);
    clock.advance(24 * 3600 * 1000 - 30_000);
    await authenticator.getAuthorization();
    expect(ef.count('POST /v2/oauth/token')).toBe(2);
  });

  it('`success: false` is an error even with HTTP 200, and the msg is carried', async () => {
    ef.inject('POST /v2/oauth/token', { status: 200, body: { success: false, msg: 'Account suspended' } });
    const error = await auth()
      .getAuthorization()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error).toMatchObject({ code: 'token_response_error', status: 200, errorDescription: 'Account suspended' });
  });

  it('bad credentials (401 with the envelope) are a TokenResponseError carrying the status', async () => {
    const bad = createAuthenticator(
      profile,
      { clientId: ef.clientId, clientSecret: 'nope', tokenUrl: ef.tokenUrl },
      { baseUrl: ef.apiBaseUrl },
    );
    await expect(bad.getAuthorization()).rejects.toMatchObject({
      code: 'token_response_error',
      status: 401,
      errorDescription: 'Invalid client: client is invalid',
    });
  });
});

describe(`finexer (seed 001): authorization code with state, credentials in the body, comma scopes, 204 revoke`, () => {
  const { profile } = loadProfile('finexer');
  const redirectUri = 'https://yourplatformwebsite.com/authorize';
  let fx: FinexerEmulator;
  beforeAll(async () => {
    fx = await startFinexer({ redirectUris: [redirectUri] });
  });
  afterAll(() => fx.close());
  beforeEach(() => {
    fx.reset();
    fx.deny = false;
    fx.rotateRefreshTokens = false;
  });

  const flow = () => createOAuthFlow(profile, fx.flowOptions(redirectUri));

  async function connect(): Promise<Tokens> {
    const f = flow();
    const request = await f.authorizationUrl({ scope: ['customer_read', 'customer_write'] });
    return f.exchangeCode(await followAuthorization(request.url, redirectUri), { state: request.state });
  }

  it('builds the OAuth link with client_id, response_type, redirect_uri, comma-joined scope and state, and no PKCE', async () => {
    const request = await flow().authorizationUrl({ scope: ['customer_read', 'customer_write'] });
    const url = new URL(request.url);
    expect([...url.searchParams.keys()]).toEqual(['client_id', 'response_type', 'redirect_uri', 'scope', 'state']);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: fx.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'customer_read,customer_write',
      state: request.state,
    });
    expect(request.codeVerifier).toBeUndefined();
  });

  it('exchanges the code with code, client_id, client_secret, grant_type in a form body and keeps account_id', async () => {
    const tokens = await connect();
    const exchange = fx.requests.find((r) => r.path === '/oauth/token')!;
    const form = new URLSearchParams(exchange.body);
    expect(exchange.contentType).toBe('application/x-www-form-urlencoded');
    expect([...form.keys()].sort()).toEqual(['client_id', 'client_secret', 'code', 'grant_type']);
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(exchange.headers.authorization).toBeUndefined();
    expect(tokens).toMatchObject({
      tokenType: 'bearer',
      scope: ['customer_read', 'customer_write'],
      refreshToken: expect.stringMatching(/^fx_rt_/),
    });
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.raw.account_id).toEqual(expect.stringMatching(/^acct_/));
  });

  it('a denied consent (?error=access_denied&error_code=access_denied, no state) is an AuthorizationDeniedError carrying error_code', async () => {
    fx.deny = true;
    const f = flow();
    const request = await f.authorizationUrl({ scope: 'customer_read' });
    const callback = await followAuthorization(request.url, redirectUri);
    expect(callback.search).toBe('?error=access_denied&error_code=access_denied');
    const error = await f.exchangeCode(callback, { state: request.state }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationDeniedError);
    expect(error).toMatchObject({ code: 'authorization_denied', error: 'access_denied', errorCode: 'access_denied' });
    expect(fx.count('POST /oauth/token')).toBe(0);
  });

  it('a used code gives invalid_grant (400 JSON) as an OAuthError', async () => {
    const f = flow();
    const request = await f.authorizationUrl({ scope: 'customer_read' });
    const callback = await followAuthorization(request.url, redirectUri);
    await f.exchangeCode(callback, { state: request.state });
    await expect(f.exchangeCode(callback, { state: request.state })).rejects.toMatchObject({
      code: 'oauth_error',
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('a 401 from the API refreshes (grant_type, refresh_token + credentials) and keeps the unrotated refresh token', async () => {
    const tokens = await connect();
    const persisted: Tokens[] = [];
    const session = flow().session(tokens, { onTokens: (t) => void persisted.push(t) });
    fx.tokens.revokeAll();
    const { response, sent } = await callApi(session, `${fx.apiBaseUrl}/customers`);
    expect(response.status).toBe(200);
    expect(sent).toHaveLength(2);
    const refresh = fx.requests.filter((r) => r.path === '/oauth/token').at(-1)!;
    expect(Object.fromEntries(new URLSearchParams(refresh.body))).toEqual({
      client_id: fx.clientId,
      client_secret: fx.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
    });
    expect(persisted).toHaveLength(1);
    expect(persisted[0]!.refreshToken).toBe(tokens.refreshToken);
  });

  it('revoke POSTs client_id, client_secret, refresh_token; 204 without a body is success and both tokens die', async () => {
    const tokens = await connect();
    await flow().revoke(tokens);
    const revoke = fx.requests.find((r) => r.path === '/oauth/revoke')!;
    expect(revoke.body).toBe(
      new URLSearchParams({ client_id: fx.clientId, client_secret: fx.clientSecret, refresh_token: tokens.refreshToken! }).toString(),
    );
    expect(fx.events).toEqual([{ type: 'oauth.authorization.revoked', account: tokens.raw.account_id }]);
    const session = flow().session(tokens);
    await expect(callApi(session, `${fx.apiBaseUrl}/customers`)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });
});

describe(`fdx (seed 002): PKCE S256, client_secret_basic, rotating refresh tokens, RFC 7009`, () => {
  const { profile } = loadProfile('fdx');
  const redirectUri = 'https://app.example/callback';
  const clock = new FakeClock();
  let fdx: FdxEmulator;
  beforeAll(async () => {
    fdx = await startFdx({ redirectUris: [redirectUri], now: clock.now });
  });
  afterAll(() => fdx.close());
  beforeEach(() => fdx.reset());

  const flow = () =>
    createOAuthFlow(profile, {
      clientId: fdx.clientId,
      clientSecret: fdx.clientSecret,
      redirectUri,
      baseUrl: fdx.authBaseUrl,
      now: clock.now,
    });

  async function connect(): Promise<Tokens> {
    const f = flow();
    const request = await f.authorizationUrl({ scope: ['accounts', 'transactions'] });
    return f.exchangeCode(await followAuthorization(request.url, redirectUri), {
      state: request.state,
      codeVerifier: request.codeVerifier!,
    });
  }

  it('authorizes at the relative /oauth2/v4/authorize with an S256 challenge (≥ 32 characters) and openid first', async () => {
    const request = await flow().authorizationUrl({ scope: ['accounts'] });
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe(`${fdx.url}/oauth2/v4/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: fdx.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge_method: 'S256',
      scope: 'openid accounts',
      state: request.state,
    });
    expect(url.searchParams.get('code_challenge')!.length).toBeGreaterThanOrEqual(32);
    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
  });

  it('exchanges with Basic auth and exactly client_id, code, grant_type, redirect_uri, code_verifier', async () => {
    const tokens = await connect();
    const exchange = fdx.requests.find((r) => r.path === '/oauth2/v4/token')!;
    expect(exchange.headers.authorization).toBe(`Basic ${b64('fdx-client:s3cr%3Aet%2B%2F%25')}`);
    expect([...new URLSearchParams(exchange.body).keys()]).toEqual(['client_id', 'code', 'grant_type', 'redirect_uri', 'code_verifier']);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: ['openid', 'accounts', 'transactions'], expiresAt: clock.time + 900_000 });
  });

  it('every refresh rotates; the rotated tokens reach onTokens; the old refresh token is dead', async () => {
    const tokens = await connect();
    const persisted: Tokens[] = [];
    const session = flow().session(tokens, { onTokens: (t) => void persisted.push(t) });
    clock.advance(900_000 - 30_000);
    expect((await callApi(session, `${fdx.apiBaseUrl}/customers/current`)).response.status).toBe(200);
    clock.advance(900_000 - 30_000);
    expect((await callApi(session, `${fdx.apiBaseUrl}/customers/current`)).response.status).toBe(200);
    expect(persisted).toHaveLength(2);
    expect(new Set([tokens.refreshToken, persisted[0]!.refreshToken, persisted[1]!.refreshToken]).size).toBe(3);
    const refreshes = fdx.requests.filter((r) => r.path === '/oauth2/v4/token').slice(1);
    expect(refreshes.map((r) => [...new URLSearchParams(r.body).keys()])).toEqual([
      ['client_id', 'grant_type', 'refresh_token'],
      ['client_id', 'grant_type', 'refresh_token'],
    ]);
    await expect(flow().refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('refresh tokens expire after 30 days: then re-authorization is required', async () => {
    const tokens = await connect();
    clock.advance(30 * 24 * 3600 * 1000 + 1000);
    await expect(flow().refresh(tokens)).rejects.toMatchObject({ code: 'reauthorization_required', cause: { error: 'invalid_grant' } });
  });

  it('revokes with token and token_type_hint=refresh_token (Basic), which ends the grant', async () => {
    const tokens = await connect();
    await flow().revoke(tokens);
    const revoke = fdx.requests.find((r) => r.path === '/oauth2/v4/revoke')!;
    expect(revoke.body).toBe(new URLSearchParams({ token: tokens.refreshToken!, token_type_hint: 'refresh_token' }).toString());
    expect(revoke.headers.authorization).toMatch(/^Basic /);
    expect(fdx.tokens.isValid(tokens.accessToken)).toBe(false);
  });
});

describe(`dapi (seed 004): access code exchange as JSON, permanent token, delink`, () => {
  const { profile } = loadProfile('dapi');
  const clock = new FakeClock();
  let dapi: DapiEmulator;
  beforeAll(async () => {
    dapi = await startDapi({ now: clock.now });
  });
  afterAll(() => dapi.close());
  beforeEach(() => dapi.reset());

  const exchange = (connect = dapi.connect()) =>
    exchangeAccessCode(
      profile,
      { appSecret: dapi.appSecret, accessCode: connect.accessCode, connectionID: connect.connectionID },
      { baseUrl: dapi.apiBaseUrl },
    );

  it('POSTs the JSON body {appSecret, accessCode, connectionID} to /v2/auth/ExchangeToken without Authorization', async () => {
    const connect = dapi.connect();
    const tokens = await exchange(connect);
    const [request] = dapi.requests;
    expect(request).toMatchObject({ path: '/v2/auth/ExchangeToken', contentType: 'application/json' });
    expect(JSON.parse(request!.body)).toEqual({
      appSecret: dapi.appSecret,
      accessCode: connect.accessCode,
      connectionID: connect.connectionID,
    });
    expect(request!.headers.authorization).toBeUndefined();
    expect(tokens).toMatchObject({
      accessToken: expect.stringMatching(/^dapi_at_/),
      tokenType: 'Bearer',
      raw: { success: true, tokenID: connect.tokenID, userID: connect.userID },
    });
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
  });

  it('the token is permanent: years later it still works and no token request is made', async () => {
    const connect = dapi.connect();
    const tokens = await exchange(connect);
    const auth = createAuthenticator(profile, { accessToken: tokens.accessToken }, { baseUrl: dapi.apiBaseUrl, now: clock.now });
    clock.advance(5 * 365 * 24 * 3600 * 1000);
    const body = JSON.stringify({ appSecret: dapi.appSecret, userSecret: connect.userSecret });
    for (let i = 0; i < 3; i++) {
      const { response } = await callApi(auth, `${dapi.apiBaseUrl}/data/identity/get`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(200);
    }
    expect(dapi.count('POST /v2/auth/ExchangeToken')).toBe(1);
  });

  it('a used or expired access code is an error from `success: false` at HTTP 200, with its type and msg', async () => {
    const connect = dapi.connect();
    await exchange(connect);
    await expect(exchange(connect)).rejects.toMatchObject({ code: 'token_response_error', status: 200, error: 'INVALID_ACCESS_CODE' });
    const late = dapi.connect();
    clock.advance(31 * 60_000);
    await expect(exchange(late)).rejects.toBeInstanceOf(TokenResponseError);
  });

  it('delink sends the token as Bearer and {appSecret, userSecret}; afterwards a 401 is final (no replay)', async () => {
    const connect = dapi.connect();
    const tokens = await exchange(connect);
    await revokeToken(profile, tokens, { baseUrl: dapi.apiBaseUrl, inputs: { appSecret: dapi.appSecret, userSecret: connect.userSecret } });
    const delink = dapi.requests.find((r) => r.path === '/v2/users/DelinkUser')!;
    expect(delink.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(JSON.parse(delink.body)).toEqual({ appSecret: dapi.appSecret, userSecret: connect.userSecret });
    const auth = createAuthenticator(profile, { accessToken: tokens.accessToken }, { baseUrl: dapi.apiBaseUrl });
    const { response, sent } = await callApi(auth, `${dapi.apiBaseUrl}/data/identity/get`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(401);
    expect(sent).toHaveLength(1);
  });

  it('an exchange answer without success: true is refused even when it carries a token', async () => {
    dapi.inject('POST /v2/auth/ExchangeToken', { status: 200, body: { accessToken: 'looks-fine' } });
    await expect(exchange()).rejects.toMatchObject({ code: 'token_response_error' });
  });

  it('a wrong app secret is surfaced with the provider type, never as tokens', async () => {
    const connect = dapi.connect();
    const error = await exchangeAccessCode(
      profile,
      { appSecret: 'wrong', accessCode: connect.accessCode, connectionID: connect.connectionID },
      { baseUrl: dapi.apiBaseUrl },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ error: 'INVALID_APP_SECRET', errorDescription: 'App secret is invalid' });
    expect(error).not.toBeInstanceOf(OAuthError);
  });
});
