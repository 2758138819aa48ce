// Revocation outcomes: RFC 7009 200 with any body, Finexer's 204, typed
// unsupported_token_type, retryable 503, and the local cache cleared even
// when the provider call fails.

import {
  type DapiEmulator,
  type FdxEmulator,
  type FinexerEmulator,
  followAuthorization,
  loadProfile,
  startDapi,
  startFdx,
  startFinexer,
} from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createOAuthFlow,
  exchangeAccessCode,
  ReauthorizationRequiredError,
  RevocationError,
  revokeToken,
  type Tokens,
  UnsupportedTokenTypeError,
} from '../src/index.js';

const redirectUri = 'https://app.example/callback';
let fdx: FdxEmulator;
let fx: FinexerEmulator;
let dapi: DapiEmulator;

beforeAll(async () => {
  [fdx, fx, dapi] = await Promise.all([
    startFdx({ redirectUris: [redirectUri] }),
    startFinexer({ redirectUris: [redirectUri] }),
    startDapi(),
  ]);
});
afterAll(() => Promise.all([fdx.close(), fx.close(), dapi.close()]));
beforeEach(() => {
  for (const server of [fdx, fx, dapi]) server.reset();
});

const FDX_REVOKE = 'POST /oauth2/v4/revoke';
const fdxFlow = () =>
  createOAuthFlow(loadProfile('fdx').profile, { clientId: fdx.clientId, clientSecret: fdx.clientSecret, redirectUri, baseUrl: fdx.url });
const finexerFlow = () => createOAuthFlow(loadProfile('finexer').profile, fx.flowOptions(redirectUri));

async function fdxTokens(): Promise<Tokens> {
  const flow = fdxFlow();
  const request = await flow.authorizationUrl({ scope: 'accounts' });
  return flow.exchangeCode(await followAuthorization(request.url, redirectUri), {
    state: request.state,
    codeVerifier: request.codeVerifier!,
  });
}

async function finexerTokens(): Promise<Tokens> {
  const flow = finexerFlow();
  const request = await flow.authorizationUrl({ scope: 'customer_read' });
  return flow.exchangeCode(await followAuthorization(request.url, redirectUri), { state: request.state });
}

describe('revocation', () => {
  it.each([
    ['an empty body', ''],
    ['a text body', 'OK'],
    ['a JSON body', '{"revoked":true}'],
    ['a body that looks like an error', '{"error":"ignored"}'],
  ])('RFC 7009: HTTP 200 with %s is success', async (_name, body) => {
    const tokens = await fdxTokens();
    fdx.inject(FDX_REVOKE, { status: 200, body });
    await expect(fdxFlow().revoke(tokens)).resolves.toBeUndefined();
    // The injected reply skips the emulator's own checks, so the request itself is checked here (RFC 7009 §2.1).
    const sent = fdx.requests.filter((r) => `${r.method} ${r.path}` === FDX_REVOKE);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.body))).toEqual({
      token: tokens.refreshToken,
      token_type_hint: 'refresh_token',
    });
    // client_secret_basic: each part form-encoded, then Basic (RFC 6749 §2.3.1).
    const [scheme, credentials] = (sent[0]!.headers.authorization ?? '').split(' ');
    expect(scheme).toBe('Basic');
    expect(
      atob(credentials!)
        .split(':')
        .map((part) => decodeURIComponent(part.replace(/\+/g, ' '))),
    ).toEqual([fdx.clientId, fdx.clientSecret]);
  });

  it("Finexer: 204 with no body is success (the profile's successStatus)", async () => {
    const tokens = await finexerTokens();
    await expect(finexerFlow().revoke(tokens)).resolves.toBeUndefined();
    const sent = fx.requests.filter((r) => `${r.method} ${r.path}` === 'POST /oauth/revoke');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.contentType).toBe('application/x-www-form-urlencoded');
    // Finexer revokes the grant by its refresh token, client_secret_post, and no Authorization header.
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.body))).toEqual({
      refresh_token: tokens.refreshToken,
      client_id: fx.clientId,
      client_secret: fx.clientSecret,
    });
    expect(sent[0]!.headers.authorization).toBeUndefined();
    expect(fx.tokens.isValid(tokens.accessToken)).toBe(false);
  });

  it('a 2xx the profile does not list is not success', async () => {
    const tokens = await finexerTokens();
    fx.inject('POST /oauth/revoke', { status: 202 });
    await expect(finexerFlow().revoke(tokens)).rejects.toMatchObject({ code: 'revocation_error', status: 202, retryable: false });
  });

  it('unsupported_token_type is a typed UnsupportedTokenTypeError (a RevocationError, not retryable)', async () => {
    const tokens = await fdxTokens();
    fdx.inject(FDX_REVOKE, {
      status: 400,
      body: { error: 'unsupported_token_type', error_description: 'access tokens cannot be revoked' },
    });
    const error = await fdxFlow()
      .revoke(tokens)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedTokenTypeError);
    expect(error).toBeInstanceOf(RevocationError);
    expect(error).toMatchObject({ code: 'unsupported_token_type', error: 'unsupported_token_type', status: 400, retryable: false });
  });

  it('503 is a retryable RevocationError; a 400 error is not', async () => {
    const tokens = await fdxTokens();
    fdx.inject(FDX_REVOKE, { status: 503, body: 'maintenance', headers: { 'retry-after': '30' } });
    await expect(fdxFlow().revoke(tokens)).rejects.toMatchObject({ code: 'revocation_error', status: 503, retryable: true });
    const finexer = await finexerTokens();
    fx.inject('POST /oauth/revoke', { status: 400, body: { error: 'invalid_request', error_description: 'refresh_token is required' } });
    await expect(finexerFlow().revoke(finexer)).rejects.toMatchObject({
      status: 400,
      retryable: false,
      error: 'invalid_request',
      errorDescription: 'refresh_token is required',
    });
  });

  it('a network failure is a retryable RevocationError', async () => {
    const tokens = await fdxTokens();
    const closed = createOAuthFlow(loadProfile('fdx').profile, {
      clientId: fdx.clientId,
      clientSecret: fdx.clientSecret,
      redirectUri,
      baseUrl: 'http://127.0.0.1:9',
    });
    await expect(closed.revoke(tokens)).rejects.toMatchObject({
      code: 'revocation_error',
      retryable: true,
      cause: { code: 'connection_error' },
    });
  });

  it('session.revoke() clears the local tokens even when the provider call fails', async () => {
    const session = fdxFlow().session(await fdxTokens());
    await session.getAuthorization();
    fdx.inject(FDX_REVOKE, { status: 503 });
    await expect(session.revoke()).rejects.toMatchObject({ retryable: true });
    await expect(session.tokens()).resolves.toBeUndefined();
    await expect(session.getAuthorization()).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('session.revoke() on success clears the tokens and the provider has revoked them', async () => {
    const tokens = await finexerTokens();
    const session = finexerFlow().session(tokens);
    await session.revoke();
    await expect(session.tokens()).resolves.toBeUndefined();
    expect(fx.tokens.isValid(tokens.accessToken)).toBe(false);
  });

  it('Dapi delink: `success: false` at HTTP 200 is a RevocationError', async () => {
    const connect = dapi.connect();
    const { profile } = loadProfile('dapi');
    const tokens = await exchangeAccessCode(
      profile,
      { appSecret: dapi.appSecret, accessCode: connect.accessCode, connectionID: connect.connectionID },
      { baseUrl: dapi.apiBaseUrl },
    );
    await expect(
      revokeToken(profile, tokens, { baseUrl: dapi.apiBaseUrl, inputs: { appSecret: dapi.appSecret, userSecret: 'not-this-users' } }),
    ).rejects.toMatchObject({
      code: 'revocation_error',
      status: 200,
      retryable: false,
      error: 'INVALID_REQUEST',
    });
  });
});
