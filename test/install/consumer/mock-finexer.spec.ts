import { createClient, oauth, ReauthorizationRequiredError, type Tokens, verifyWebhook } from '@portico/finexer';
import { describe, expect, it } from 'vitest';
import { consent, useFake, WAYS } from './mock-fake.js';

describe.each(WAYS)('finexer, through %s', (way) => {
  // Finexer does not document a token lifetime, so the fake's tokens have none unless given one: here, so they can expire.
  const fake = useFake('finexer', way, { accessTokenLifetimeSeconds: 3600 });

  async function signIn() {
    const f = oauth({ ...fake.mock.client, ...fake.authOptions });
    const { url, state } = await f.authorizationUrl({ scope: ['customer_read', 'customer_write'] });
    const tokens = await f.exchangeCode(await consent(url), { state });
    let saved: Tokens = tokens;
    const client = createClient({
      ...fake.clientOptions,
      auth: f.session(tokens, { onTokens: (t) => void (saved = t) }),
      throwOnError: true,
    });
    return { tokens, client, saved: () => saved };
  }

  it('signs in (authorization code) and calls the API', async () => {
    const { client } = await signIn();
    const { data } = await client.GET('/customers');
    expect(data.data.length).toBeGreaterThan(0);
  });

  it('refreshes an expired token, and the refresh token rotates', async () => {
    const { tokens, client, saved } = await signIn();
    fake.mock.controller.expireAccessTokens();
    await client.GET('/customers');
    expect(saved().refreshToken).toBeTruthy();
    expect(saved().refreshToken).not.toBe(tokens.refreshToken);
  });

  it('a revoked grant ends in ReauthorizationRequiredError', async () => {
    const { client } = await signIn();
    fake.mock.controller.revokeGrants();
    await expect(client.GET('/customers')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('waits out a 429 and its Retry-After', async () => {
    const { client } = await signIn();
    fake.mock.controller.fail('listCustomers', { kind: 'rate-limit', retryAfterSeconds: 1 });
    expect((await client.GET('/customers')).data.data.length).toBeGreaterThan(0);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'listCustomers')).toHaveLength(2);
  });

  it('pages to the end', async () => {
    const { client } = await signIn();
    const transactions = [];
    for await (const tx of client.paginate('/bank_accounts/{id}/transactions', { params: { path: { id: 'ba_1' }, query: { limit: 5 } } }))
      transactions.push(tx);
    expect(transactions).toHaveLength(12);
    expect(new Set(transactions.map((tx) => tx.id)).size).toBe(12);
  });

  it('verifies a webhook signed as Finexer signs it, and refuses it altered', async () => {
    const delivery = await fake.mock.controller.signWebhook('consent.accepted');
    const event = await verifyWebhook(delivery.body, delivery.headers, fake.mock.client.webhookSecret);
    expect(event.type).toBe('consent.accepted');
    await expect(
      verifyWebhook(delivery.body.replace('consent', 'Consent'), delivery.headers, fake.mock.client.webhookSecret),
    ).rejects.toMatchObject({
      reason: 'signature_mismatch',
    });
  });
});
