// The token lifecycle: stale-401 replay, refresh once per 401, proactive
// renewal with skew on a fake clock, unknown expiry, rotation semantics,
// invalid_grant, onTokens, stores, static tokens.

import {
  callApi,
  type DexeroFdEmulator,
  type FdxEmulator,
  type FinexerEmulator,
  followAuthorization,
  loadProfile,
  startDexeroFd,
  startFdx,
  startFinexer,
} from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator, createOAuthFlow, MemoryTokenStore, ReauthorizationRequiredError, type Tokens } from '../src/index.js';
import { FakeClock } from './helpers.js';

const clock = new FakeClock();
const redirectUri = 'https://app.example/callback';
let fd: DexeroFdEmulator;
let fx: FinexerEmulator;
let fdx: FdxEmulator;

beforeAll(async () => {
  [fd, fx, fdx] = await Promise.all([
    startDexeroFd({ now: clock.now }),
    startFinexer({ redirectUris: [redirectUri], now: clock.now }),
    startFdx({ redirectUris: [redirectUri], now: clock.now }),
  ]);
});
afterAll(() => Promise.all([fd.close(), fx.close(), fdx.close()]));
beforeEach(() => {
  for (const server of [fd, fx, fdx]) server.reset();
  fd.expiresIn = 3600;
  fx.rotateRefreshTokens = false;
});

const FD_TOKEN = 'POST /oauth/token.action';
const FX_TOKEN = 'POST /oauth/token';
const FDX_TOKEN = 'POST /oauth2/v4/token';

const clientCredentials = (options: { refreshSkewMs?: number; onTokens?: (t: Tokens) => void } = {}) =>
  createAuthenticator(
    loadProfile('dexero-fd').profile,
    { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
    { baseUrl: fd.apiBaseUrl, now: clock.now, ...options },
  );
const records = () => `${fd.apiBaseUrl}/records.json`;

const finexerFlow = () => createOAuthFlow(loadProfile('finexer').profile, { ...fx.flowOptions(redirectUri), now: clock.now });

async function finexerTokens(): Promise<Tokens> {
  const flow = finexerFlow();
  const request = await flow.authorizationUrl({ scope: 'customer_read' });
  return flow.exchangeCode(await followAuthorization(request.url, redirectUri), { state: request.state });
}

const fdxFlow = () =>
  createOAuthFlow(loadProfile('fdx').profile, {
    clientId: fdx.clientId,
    clientSecret: fdx.clientSecret,
    redirectUri,
    baseUrl: fdx.url,
    now: clock.now,
  });

async function fdxTokens(): Promise<Tokens> {
  const flow = fdxFlow();
  const request = await flow.authorizationUrl({ scope: 'accounts' });
  return flow.exchangeCode(await followAuthorization(request.url, redirectUri), {
    state: request.state,
    codeVerifier: request.codeVerifier!,
  });
}

describe('401 handling: stale replay and one renewal per 401', () => {
  it('a 401 for a token that was already replaced replays with the current one, without a token request', async () => {
    const auth = clientCredentials();
    const stale = (await auth.getAuthorization()).value;
    expect(await auth.handleUnauthorized(stale)).toBe(true);
    const fresh = (await auth.getAuthorization()).value;
    expect(fresh).not.toBe(stale);
    expect(fd.count(FD_TOKEN)).toBe(2);
    // A second request that was in flight with the stale token now gets its 401.
    expect(await auth.handleUnauthorized(stale)).toBe(true);
    expect(fd.count(FD_TOKEN)).toBe(2);
    expect((await auth.getAuthorization()).value).toBe(fresh);
  });

  it('overlapping 401s on the same token renew once (client credentials re-fetch instead of refresh)', async () => {
    const auth = clientCredentials();
    await auth.getAuthorization();
    fd.tokens.revokeAll();
    fd.latencyMs = 20;
    const results = await Promise.all(Array.from({ length: 3 }, () => callApi(auth, records())));
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200]);
    expect(fd.count(FD_TOKEN)).toBe(2);
    expect(fd.requests.filter((r) => r.path === '/oauth/token.action').every((r) => r.body.includes('grant_type=client_credentials'))).toBe(
      true,
    );
  });

  it('never loops: an API that rejects every token costs one renewal per 401 and the 401 reaches the caller', async () => {
    const auth = clientCredentials();
    fd.inject('GET /services/v6/rest/records.json', { status: 401, body: { error: 'invalid_token' } }, { times: 10 });
    const { response, sent } = await callApi(auth, records());
    expect(response.status).toBe(401);
    expect(sent).toHaveLength(2);
    expect(fd.count(FD_TOKEN)).toBe(2);
  });

  it('a session refreshes once for overlapping 401s and every caller replays', async () => {
    const session = finexerFlow().session(await finexerTokens());
    fx.tokens.revokeAll();
    fx.latencyMs = 20;
    const before = fx.count(FX_TOKEN);
    const results = await Promise.all(Array.from({ length: 10 }, () => callApi(session, `${fx.apiBaseUrl}/customers`)));
    expect(results.map((r) => r.response.status)).toEqual(Array(10).fill(200));
    expect(fx.count(FX_TOKEN) - before).toBe(1);
  });

  it('a static token is never renewed: handleUnauthorized is false', async () => {
    const auth = createAuthenticator(loadProfile('dapi').profile, { accessToken: 'permanent' }, { baseUrl: 'https://api.dapi.com/v2' });
    expect(await auth.getAuthorization()).toEqual({ name: 'Authorization', value: 'Bearer permanent' });
    expect(await auth.handleUnauthorized('Bearer permanent')).toBe(false);
  });
});

describe('proactive renewal with a fake clock', () => {
  it('renews a refreshSkewMs before expiry, not earlier', async () => {
    fd.expiresIn = 900;
    const auth = clientCredentials({ refreshSkewMs: 60_000 });
    await auth.getAuthorization();
    clock.advance(839_000);
    await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(1);
    clock.advance(2_000);
    await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(2);
  });

  it('a 30 s token with a 60 s skew does not loop: one renewal per half lifetime', async () => {
    fd.expiresIn = 30;
    const auth = clientCredentials({ refreshSkewMs: 60_000 });
    for (let i = 0; i < 20; i++) await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(1);
    clock.advance(14_000);
    for (let i = 0; i < 20; i++) await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(1);
    clock.advance(2_000);
    for (let i = 0; i < 20; i++) await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(2);
    clock.advance(14_000);
    for (let i = 0; i < 20; i++) await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(2);
  });

  it('unknown expiry (Finexer sends no expires_in) means no early refresh, however much time passes', async () => {
    const tokens = await finexerTokens();
    expect(tokens.expiresAt).toBeUndefined();
    const session = finexerFlow().session(tokens);
    const before = fx.count(FX_TOKEN);
    clock.advance(10 * 365 * 24 * 3600 * 1000);
    await session.getAuthorization();
    expect(fx.count(FX_TOKEN)).toBe(before);
  });

  it('a session proactively refreshes an expiring token once and hands the new set to onTokens', async () => {
    const persisted: Tokens[] = [];
    const session = fdxFlow().session(await fdxTokens(), { onTokens: (t) => void persisted.push(t), refreshSkewMs: 120_000 });
    const before = fdx.count(FDX_TOKEN);
    clock.advance(900_000 - 119_000);
    await Promise.all(Array.from({ length: 10 }, () => session.getAuthorization()));
    expect(fdx.count(FDX_TOKEN) - before).toBe(1);
    expect(persisted).toHaveLength(1);
    await expect(session.tokens()).resolves.toMatchObject({
      accessToken: persisted[0]!.accessToken,
      refreshToken: persisted[0]!.refreshToken,
    });
  });
});

describe('refresh results: rotation and the old refresh token', () => {
  it('a refresh answer without refresh_token keeps the old value (Finexer, rotation optional)', async () => {
    const tokens = await finexerTokens();
    const refreshed = await finexerFlow().refresh(tokens);
    expect(refreshed.raw.refresh_token).toBeUndefined();
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.scope).toEqual(['customer_read']);
  });

  it('a refresh answer with a new refresh_token replaces the old one (Finexer rotating)', async () => {
    fx.rotateRefreshTokens = true;
    const tokens = await finexerTokens();
    const refreshed = await finexerFlow().refresh(tokens);
    expect(refreshed.refreshToken).toBe(refreshed.raw.refresh_token);
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
  });

  it('rotation "always" without a new refresh token in the answer drops the dead one', async () => {
    const tokens = await fdxTokens();
    fdx.inject(FDX_TOKEN, { status: 200, body: { access_token: 'at-without-rt', token_type: 'Bearer', expires_in: 900 } });
    const refreshed = await fdxFlow().refresh(tokens);
    expect(refreshed.accessToken).toBe('at-without-rt');
    expect(refreshed.refreshToken).toBeUndefined();
  });
});

describe('invalid_grant on refresh', () => {
  it('clears the stored tokens and raises ReauthorizationRequiredError once, with no retry and no loop', async () => {
    const store = new MemoryTokenStore();
    const session = finexerFlow().session(await finexerTokens(), { store, key: 'user-42' });
    await session.getAuthorization();
    expect(await store.get('user-42')).toBeDefined();
    fx.inject(FX_TOKEN, {
      status: 400,
      body: { error: 'invalid_grant', error_description: 'The refresh token is invalid or was revoked' },
    });
    fx.tokens.revokeAll();
    const before = fx.count(FX_TOKEN);
    const error = await callApi(session, `${fx.apiBaseUrl}/customers`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error).toMatchObject({ code: 'reauthorization_required', cause: { code: 'oauth_error', error: 'invalid_grant', status: 400 } });
    expect(fx.count(FX_TOKEN) - before).toBe(1);
    expect(await store.get('user-42')).toBeUndefined();
    await expect(session.tokens()).resolves.toBeUndefined();
    await expect(session.getAuthorization()).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    await expect(session.handleUnauthorized('Bearer anything')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(fx.count(FX_TOKEN) - before).toBe(1);
  });

  it('other refresh failures keep the tokens so a later call can retry', async () => {
    const session = finexerFlow().session(await finexerTokens());
    fx.tokens.revokeAll();
    fx.inject(FX_TOKEN, { status: 503, body: 'down' });
    await expect(callApi(session, `${fx.apiBaseUrl}/customers`)).rejects.toMatchObject({ code: 'token_response_error', status: 503 });
    await expect(session.tokens()).resolves.toBeDefined();
    expect((await callApi(session, `${fx.apiBaseUrl}/customers`)).response.status).toBe(200);
  });
});

describe('stores and onTokens', () => {
  it('onTokens receives every new token set, client credentials included', async () => {
    fd.expiresIn = 100;
    const seen: string[] = [];
    const auth = clientCredentials({ onTokens: (t) => void seen.push(t.accessToken) });
    await auth.getAuthorization();
    clock.advance(100_000);
    const { value } = await auth.getAuthorization();
    expect(seen).toHaveLength(2);
    expect(`Bearer ${seen[1]}`).toBe(value);
  });

  it('a shared store that already holds newer tokens under the key wins over the tokens passed to session()', async () => {
    fx.rotateRefreshTokens = true;
    const store = new MemoryTokenStore();
    const original = await finexerTokens();
    const first = finexerFlow().session(original, { store, key: 'user-7' });
    fx.tokens.revokeAll();
    await callApi(first, `${fx.apiBaseUrl}/customers`);
    const rotated = (await store.get('user-7'))?.tokens;
    expect(rotated!.refreshToken).not.toBe(original.refreshToken);
    // A restarted process builds its session from stale tokens but the same store.
    const second = finexerFlow().session(original, { store, key: 'user-7' });
    await expect(second.tokens()).resolves.toMatchObject({ refreshToken: rotated!.refreshToken });
  });

  it('a session without a refresh token uses an expiring token until it expires, then asks for re-authorization', async () => {
    const { refreshToken: _none, ...tokens } = await fdxTokens();
    const session = fdxFlow().session(tokens);
    const before = fdx.count(FDX_TOKEN);
    clock.advance(900_000 - 10_000);
    await expect(session.getAuthorization()).resolves.toEqual({ name: 'Authorization', value: `Bearer ${tokens.accessToken}` });
    clock.advance(20_000);
    await expect(session.getAuthorization()).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(fdx.count(FDX_TOKEN)).toBe(before);
  });
});

// The call path's fast path: a header handed out without a promise must be
// exactly what getAuthorization would give, and never one due for renewal.
describe('cachedAuthorization: the header without a wait, only while it is good', () => {
  it('client credentials: none before the first token, then the same header, none once due for renewal', async () => {
    const auth = clientCredentials({ refreshSkewMs: 60_000 });
    expect(auth.cachedAuthorization?.()).toBeUndefined();
    const header = await auth.getAuthorization();
    expect(auth.cachedAuthorization?.()).toEqual(header);
    expect(fd.count(FD_TOKEN)).toBe(1);
    clock.advance((3600 - 30) * 1000);
    expect(auth.cachedAuthorization?.(), 'a token inside the refresh skew is not handed out').toBeUndefined();
    const renewed = await auth.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(2);
    expect(renewed.value).not.toBe(header.value);
    expect(auth.cachedAuthorization?.()).toEqual(renewed);
  });

  it('a session: none until it is first used, then the rotated header after a refresh, never the spent one', async () => {
    const tokens = await fdxTokens();
    const session = fdxFlow().session(tokens, { refreshSkewMs: 60_000 });
    expect(session.cachedAuthorization?.(), 'the first write has not been asked for').toBeUndefined();
    const header = await session.getAuthorization();
    expect(header.value).toBe(`Bearer ${tokens.accessToken}`);
    expect(session.cachedAuthorization?.()).toEqual(header);
    clock.advance((fdx.accessTokenLifetime - 30) * 1000);
    expect(session.cachedAuthorization?.()).toBeUndefined();
    const renewed = await session.getAuthorization();
    expect(renewed.value).not.toBe(header.value);
    expect(session.cachedAuthorization?.()).toEqual(renewed);
  });
});
