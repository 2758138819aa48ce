// Against oidc-provider 9, a certified authorization server, started here on
// 127.0.0.1: client credentials (basic and post), the full authorization code
// flow with PKCE and headless login/consent, refresh with rotation,
// revocation, and 20 concurrent API calls on an expired access token.
import { setTimeout as sleep } from 'node:timers/promises';
import { callApi, OIDC_ACCOUNT, OIDC_CLIENTS, type OidcHarness, startOidcProvider } from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthenticator,
  createOAuthFlow,
  ReauthorizationRequiredError,
  type StoredTokens,
  type TokenStore,
  type Tokens,
} from '../src/index.js';

let server: OidcHarness;

beforeAll(async () => {
  server = await startOidcProvider();
});

afterAll(async () => {
  await server.close();
});

function appFlow(clientAuthentication: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic') {
  const client = clientAuthentication === 'client_secret_basic' ? OIDC_CLIENTS.app : OIDC_CLIENTS.appPost;
  return createOAuthFlow(server.profile(clientAuthentication), { ...client, redirectUri: server.redirectUri, baseUrl: server.issuer });
}

async function authorize(flow = appFlow()): Promise<Tokens> {
  const request = await flow.authorizationUrl({ scope: ['api:read'] });
  const callback = await server.authorize(request.url);
  return flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! });
}

async function userinfo(auth: Parameters<typeof callApi>[0]) {
  const { response, sent } = await callApi(auth, server.userinfoUrl);
  return { status: response.status, body: response.ok ? ((await response.json()) as Record<string, unknown>) : undefined, sent };
}

describe('oidc-provider 9 on 127.0.0.1: client credentials', () => {
  it('gets a token with client_secret_basic (secret with : + / %, RFC 6749 §2.3.1 encoding)', async () => {
    const auth = createAuthenticator(
      server.profile('client_secret_basic'),
      { ...OIDC_CLIENTS.basic, scope: 'api:read' },
      { baseUrl: server.issuer },
    );
    const header = await auth.getAuthorization();
    const token = header.value.replace(/^Bearer /, '');
    const introspection = await server.introspect(token, OIDC_CLIENTS.basic);
    expect(introspection).toMatchObject({ active: true, client_id: OIDC_CLIENTS.basic.clientId, scope: 'api:read' });
  });

  it('gets a token with client_secret_post and reuses it from the cache', async () => {
    const before = server.grantCounts.client_credentials ?? 0;
    const auth = createAuthenticator(
      server.profile('client_secret_post'),
      { ...OIDC_CLIENTS.post, scope: ['api:read', 'api:write'] },
      { baseUrl: server.issuer },
    );
    const first = await auth.getAuthorization();
    const second = await auth.getAuthorization();
    expect(second).toEqual(first);
    expect(server.grantCounts.client_credentials).toBe(before + 1);
    const introspection = await server.introspect(first.value.slice('Bearer '.length), OIDC_CLIENTS.post);
    expect(introspection).toMatchObject({ active: true, client_id: OIDC_CLIENTS.post.clientId, scope: 'api:read api:write' });
  });
});

describe('oidc-provider 9 on 127.0.0.1: authorization code + PKCE, refresh, revoke', () => {
  it('runs the full flow: authorization URL, login and consent, callback, code exchange, API call', async () => {
    const flow = appFlow();
    const request = await flow.authorizationUrl({ scope: 'api:read' });
    const url = new URL(request.url);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe('openid api:read');
    const callback = await server.authorize(request.url);
    expect(callback.searchParams.get('state')).toBe(request.state);
    const tokens = await flow.exchangeCode(callback.href, { state: request.state, codeVerifier: request.codeVerifier! });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: expect.arrayContaining(['openid']) });
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    const result = await userinfo(flow.session(tokens));
    expect(result).toMatchObject({ status: 200, body: { sub: OIDC_ACCOUNT } });
  });

  it('works with client_secret_post at the token endpoint too', async () => {
    const tokens = await authorize(appFlow('client_secret_post'));
    expect((await userinfo(appFlow('client_secret_post').session(tokens))).status).toBe(200);
  });

  it('a wrong code verifier is refused by the server (PKCE is really enforced)', async () => {
    const flow = appFlow();
    const request = await flow.authorizationUrl({ scope: 'api:read' });
    const callback = await server.authorize(request.url);
    const other = await flow.authorizationUrl({ scope: 'api:read' });
    await expect(flow.exchangeCode(callback, { state: request.state, codeVerifier: other.codeVerifier! })).rejects.toMatchObject({
      code: 'oauth_error',
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('refresh rotates the refresh token; the old one is then dead (reuse revokes the grant)', async () => {
    const flow = appFlow();
    const tokens = await authorize(flow);
    const refreshed = await flow.refresh(tokens);
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect((await server.introspect(refreshed.accessToken)).active).toBe(true);
    await expect(flow.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect((await server.introspect(refreshed.accessToken)).active).toBe(false);
  });

  it('revoke (RFC 7009) ends the grant: the access token goes inactive and refresh needs re-authorization', async () => {
    const flow = appFlow();
    const tokens = await authorize(flow);
    expect((await server.introspect(tokens.accessToken)).active).toBe(true);
    await flow.revoke(tokens);
    expect((await server.introspect(tokens.accessToken)).active).toBe(false);
    await expect(flow.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });
});

describe('oidc-provider 9 on 127.0.0.1: 20 concurrent API calls with an expired access token', () => {
  async function expiredSession(knownExpiry: boolean) {
    const flow = appFlow();
    server.accessTokenTtl = 1;
    const tokens = await authorize(flow);
    server.accessTokenTtl = 3600;
    await sleep(2100);
    expect((await server.introspect(tokens.accessToken)).active).toBe(false);
    const persisted: Tokens[] = [];
    // Without a known expiry the client only learns from the 401s.
    const { expiresAt: _drop, ...unknownExpiry } = tokens;
    // A store without a lock, so only the in-process single-flight stands between the 20 calls and 20 refreshes.
    const map = new Map<string, StoredTokens>();
    // A store without a lock of its own: clients lock within the process.
    const store: TokenStore = {
      get: async (k) => map.get(k),
      set: async (k, tokens, expected) => {
        if ((map.get(k)?.version ?? 0) !== expected) return undefined;
        map.set(k, { tokens, version: expected + 1 });
        return expected + 1;
      },
      delete: async (k) => void map.delete(k),
    };
    const session = flow.session(knownExpiry ? tokens : unknownExpiry, { onTokens: (t) => void persisted.push(t), store });
    return { flow, session, tokens, persisted };
  }

  it('expiry known: exactly one refresh, all 20 calls succeed, the session stays valid', async () => {
    const { session, flow, persisted } = await expiredSession(true);
    const before = server.grantCounts.refresh_token ?? 0;
    const hits = server.tokenEndpointHits;
    const results = await Promise.all(Array.from({ length: 20 }, () => userinfo(session)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(server.grantCounts.refresh_token).toBe(before + 1);
    expect(server.tokenEndpointHits - hits).toBe(1);
    expect(persisted).toHaveLength(1);
    expect((await userinfo(session)).status).toBe(200);
    // The rotated refresh token still works: the grant was not revoked by a reuse.
    await expect(flow.refresh(persisted[0]!)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('expiry unknown: 20 calls get 401, exactly one refresh, every call is replayed once and succeeds', async () => {
    const { session, flow, persisted } = await expiredSession(false);
    const before = server.grantCounts.refresh_token ?? 0;
    const hits = server.tokenEndpointHits;
    const results = await Promise.all(Array.from({ length: 20 }, () => userinfo(session)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.every((r) => r.sent.length === 2)).toBe(true);
    expect(server.grantCounts.refresh_token).toBe(before + 1);
    expect(server.tokenEndpointHits - hits).toBe(1);
    expect(persisted).toHaveLength(1);
    expect((await userinfo(session)).status).toBe(200);
    await expect(flow.refresh(persisted[0]!)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});
