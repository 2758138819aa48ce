// @portico/finexer against the mock: authorization code without PKCE,
// client_secret_post, comma-separated scopes, optional refresh rotation,
// revocation of the whole grant (204), next-url paging, signed webhooks.
import { createClient, oauth, RateLimitError, ReauthorizationRequiredError, verifyWebhook } from '@portico/finexer';
import { describe, expect, it } from 'vitest';
import { browse, MODES, useMock } from './support.js';

describe.each(MODES)('finexer through %s', (mode) => {
  const t = useMock('finexer', mode);
  const flow = () => oauth({ ...t.mock.client, ...t.authOptions });

  async function signIn() {
    const f = flow();
    const request = await f.authorizationUrl({ scope: ['customer_read', 'customer_write'] });
    expect(request.codeVerifier).toBeUndefined();
    const tokens = await f.exchangeCode(await browse(request.url), { state: request.state });
    return { f, tokens };
  }

  it('signs in, with the scopes comma-separated, and calls the API', async () => {
    const { f, tokens } = await signIn();
    expect(tokens.scope).toEqual(['customer_read', 'customer_write']);
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    const { data } = await client.POST('/customers', { body: { name: 'Jane Smith', email: 'jane@example.com' } });
    expect(data.object).toBe('customer');
  });

  it('a denial comes back with error and error_code', async () => {
    const f = flow();
    const request = await f.authorizationUrl({ scope: ['customer_read'] });
    const denied = t.mock.controller.approve(request.url, { deny: true });
    expect(new URL(denied).searchParams.get('error_code')).toBe('access_denied');
    await expect(f.exchangeCode(denied, { state: request.state })).rejects.toMatchObject({
      code: 'authorization_denied',
      errorCode: 'access_denied',
    });
  });

  it('rotates the refresh token, and a rotated one spent again ends the grant', async () => {
    const { f, tokens } = await signIn();
    const rotated = await f.refresh(tokens);
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    await expect(f.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(t.mock.controller.stats.refreshTokenReuse).toBe(1);
    await expect(f.refresh(rotated)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('revocation ends both tokens (204); a revoked grant ends the session', async () => {
    const { f, tokens } = await signIn();
    await f.revoke(tokens);
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    await expect(client.GET('/customers')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    const second = await signIn();
    const other = createClient({ ...t.clientOptions, auth: second.f.session(second.tokens), throwOnError: true });
    t.mock.controller.revokeGrants();
    await expect(other.GET('/customers/{id}', { params: { path: { id: 'cus_1' } } })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('expireAccessTokens() expires a token whose lifetime Finexer never states: the next call renews it', async () => {
    const { f, tokens } = await signIn();
    expect(tokens.expiresAt).toBeUndefined();
    let saved = tokens;
    const client = createClient({
      ...t.clientOptions,
      auth: f.session(tokens, { onTokens: (next) => void (saved = next) }),
      throwOnError: true,
    });
    await client.GET('/customers');
    t.mock.controller.expireAccessTokens();
    await client.GET('/customers');
    expect(saved.accessToken).not.toBe(tokens.accessToken);
    // The call refused with the expired token, and replayed after the refresh.
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'listCustomers')).toHaveLength(3);
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'requestAccessToken')).toHaveLength(2);
  });

  it('retries a 429 after its Retry-After, and gives up when told to', async () => {
    const { f, tokens } = await signIn();
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    t.mock.controller.fail('listCustomers', { kind: 'rate-limit', retryAfterSeconds: 1 });
    expect((await client.GET('/customers')).data.data.length).toBeGreaterThan(0);
    t.mock.controller.fail('getBankAccountSyncStatus', { kind: 'rate-limit', retryAfterSeconds: 1 });
    const once = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true, maxRetries: 0 });
    await expect(once.GET('/bank_accounts/{id}/sync', { params: { path: { id: 'ba_1' } } })).rejects.toBeInstanceOf(RateLimitError);
  });

  it('follows paging.next to the end', async () => {
    const { f, tokens } = await signIn();
    const client = createClient({ ...t.clientOptions, auth: f.session(tokens), throwOnError: true });
    const all = [];
    for await (const tx of client.paginate('/bank_accounts/{id}/transactions', { params: { path: { id: 'ba_1' }, query: { limit: 5 } } }))
      all.push(tx);
    expect(all).toHaveLength(12);
    expect(new Set(all.map((tx) => tx.id)).size).toBe(12);
  });

  it('signs a webhook that the package verifies, and a tampered one that it refuses', async () => {
    const secret = t.mock.client.webhookSecret;
    const delivery = await t.mock.controller.signWebhook('consent.accepted');
    const event = await verifyWebhook(delivery.body, delivery.headers, secret);
    expect(event.type).toBe('consent.accepted');
    const own = await t.mock.controller.signWebhook({
      id: 'evt_1',
      type: 'oauth.authorization.revoked',
      data: { object: { account_id: 'acc_1' } },
    });
    expect((await verifyWebhook(own.body, own.headers, secret)).type).toBe('oauth.authorization.revoked');
    await expect(verifyWebhook(delivery.body.replace('consent', 'Consent'), delivery.headers, secret)).rejects.toMatchObject({
      reason: 'signature_mismatch',
    });
    const stale = await t.mock.controller.signWebhook('consent.accepted', { timestamp: new Date(Date.now() - 3600_000) });
    await expect(verifyWebhook(stale.body, stale.headers, secret)).rejects.toMatchObject({ reason: 'stale_timestamp' });
  });
});
