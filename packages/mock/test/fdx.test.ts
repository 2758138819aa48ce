// @portico/fdx against the mock: authorization code with PKCE (S256 only),
// client_secret_basic, refresh tokens rotating on every use, RFC 7009
// revocation, cursor paging.
import { createClient, oauth, RateLimitError, ReauthorizationRequiredError, type Tokens } from '@portico/fdx';
import { describe, expect, it } from 'vitest';
import { browse, MODES, useMock } from './support.js';

describe.each(MODES)('fdx through %s', (mode) => {
  const t = useMock('fdx', mode);
  // FDX has no fixed authorization server (each institution runs one): through MSW it is the spec's example host.
  const flow = () => oauth({ ...t.mock.client, ...(mode === 'msw' ? { baseUrl: 'https://api.fi.com' } : t.authOptions) });

  async function signIn(scope: ('customers' | 'accounts' | 'transactions')[] = ['customers', 'accounts']) {
    const f = flow();
    const request = await f.authorizationUrl({ scope });
    expect(request.url).toContain('code_challenge_method=S256');
    const tokens = await f.exchangeCode(await browse(request.url), { state: request.state, codeVerifier: request.codeVerifier! });
    return { f, tokens };
  }

  it('signs in through authorize, code and token, and calls the API with the session', async () => {
    const { f, tokens } = await signIn();
    expect(tokens.refreshToken).toBeDefined();
    expect(tokens.scope).toEqual(expect.arrayContaining(['openid', 'customers', 'accounts']));
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    const { data } = await client.GET('/accounts/{accountId}', { params: { path: { accountId: 'acct-777' } } });
    // The documented account, answering for the id asked.
    expect(JSON.stringify(data)).toContain('acct-777');
  });

  it('refuses a denied consent, and an operation outside the granted scope', async () => {
    const f = flow();
    const request = await f.authorizationUrl({ scope: ['customers'] });
    const denied = t.mock.controller.approve(request.url, { deny: true });
    await expect(f.exchangeCode(denied, { state: request.state, codeVerifier: request.codeVerifier! })).rejects.toMatchObject({
      code: 'authorization_denied',
    });
    const { tokens } = await signIn(['customers']);
    const client = createClient({ ...t.clientOptions, auth: { accessToken: tokens.accessToken } });
    const { response, error } = await client.GET('/accounts');
    // FDX answers a valid token without the scope as it does an invalid one, 401 (its spec's
    // x-portico-auth insufficientScope), not RFC 6750 §3.1's 403; the body is the documented 401's Error.
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(error).toEqual({ code: 401, message: expect.any(String) });
    // With the scope, the same kind of token is answered.
    const { tokens: scoped } = await signIn(['customers', 'accounts']);
    const { response: answered } = await createClient({ ...t.clientOptions, auth: { accessToken: scoped.accessToken } }).GET('/accounts');
    expect(answered.status).toBe(200);
  });

  it('rotates the refresh token on every refresh', async () => {
    const { f, tokens } = await signIn();
    const first = await f.refresh(tokens);
    const second = await f.refresh(first);
    expect(new Set([tokens.refreshToken, first.refreshToken, second.refreshToken]).size).toBe(3);
    const client = createClient({ ...t.clientOptions, auth: f.session(second), throwOnError: true });
    await client.GET('/customers/current');
    expect(t.mock.controller.stats.refreshTokenReuse).toBe(0);
  });

  it('a refresh token spent twice ends the grant: the client must sign in again', async () => {
    const { f, tokens } = await signIn();
    const rotated = await f.refresh(tokens);
    await expect(f.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(t.mock.controller.stats.refreshTokenReuse).toBe(1);
    // The rotated tokens die with the grant.
    t.mock.controller.expireAccessTokens();
    const client = createClient({ ...t.clientOptions, auth: f.session(rotated), throwOnError: true });
    await expect(client.GET('/customers/current')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('an expired access token is refreshed by the session; a revoked grant ends in ReauthorizationRequiredError', async () => {
    const { f, tokens } = await signIn();
    let latest: Tokens = tokens;
    const client = createClient({
      ...t.clientOptions,
      auth: f.session(tokens, { onTokens: (next) => void (latest = next) }),
      throwOnError: true,
    });
    t.mock.controller.expireAccessTokens();
    await client.GET('/customers/current');
    expect(latest.refreshToken).not.toBe(tokens.refreshToken);
    t.mock.controller.revokeGrants();
    await expect(client.GET('/customers/current')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('revokes the grant at the RFC 7009 endpoint', async () => {
    const { f, tokens } = await signIn();
    await f.revoke(tokens);
    await expect(f.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('retries a 429 after its Retry-After', async () => {
    const { f, tokens } = await signIn();
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    t.mock.controller.fail('getCurrentCustomer', { kind: 'rate-limit', retryAfterSeconds: 1 });
    const { data } = await client.GET('/customers/current');
    expect(data.customerId).toBeTruthy();
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'getCurrentCustomer')).toHaveLength(2);
    t.mock.controller.fail('getCurrentCustomer', { kind: 'rate-limit', retryAfterSeconds: 1 }, { times: 3 });
    const limited = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true, maxRetries: 0 });
    await expect(limited.GET('/customers/current')).rejects.toBeInstanceOf(RateLimitError);
  });

  it('pages /accounts and /accounts/{id}/transactions to the end', async () => {
    const { f, tokens } = await signIn(['accounts', 'transactions']);
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    const accounts = [];
    for await (const account of client.paginate('/accounts', {})) accounts.push(account);
    expect(accounts).toHaveLength(12);
    expect(new Set(accounts.map((a) => JSON.stringify(a))).size).toBe(12);
    const limited = [];
    for await (const item of client.paginate('/accounts/{accountId}/transactions', {
      params: { path: { accountId: 'acct-10042' }, query: { limit: 5 } },
    }))
      limited.push(item);
    expect(limited).toHaveLength(12);
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'listTransactions')).toHaveLength(3);
  });
});
