import { createClient, oauth, ReauthorizationRequiredError, type Tokens } from '@portico/fdx';
import { describe, expect, it } from 'vitest';
import { consent, useFake, WAYS } from './mock-fake.js';

describe.each(WAYS)('fdx, through %s', (way) => {
  const fake = useFake('fdx', way);
  // Each institution runs its own authorization server; through MSW, the fake answers at the spec's example host.
  const flow = () => oauth({ ...fake.mock.client, ...(way === 'msw' ? { baseUrl: 'https://api.fi.com' } : fake.authOptions) });

  async function signIn() {
    const f = flow();
    const { url, state, codeVerifier } = await f.authorizationUrl({ scope: ['openid', 'customers', 'accounts'] });
    const tokens = await f.exchangeCode(await consent(url), { state, codeVerifier: codeVerifier! });
    let saved: Tokens = tokens;
    const client = createClient({
      ...fake.clientOptions,
      auth: f.session(tokens, { onTokens: (t) => void (saved = t) }),
      throwOnError: true,
    });
    return { tokens, client, saved: () => saved };
  }

  it('signs in (authorization code, PKCE) and calls the API', async () => {
    const { client } = await signIn();
    const { data } = await client.GET('/customers/current');
    expect(data.customerId).toBeTruthy();
  });

  it('refreshes an expired token, and the refresh token rotates', async () => {
    const { tokens, client, saved } = await signIn();
    fake.mock.controller.expireAccessTokens();
    await client.GET('/customers/current');
    expect(saved().refreshToken).toBeTruthy();
    expect(saved().refreshToken).not.toBe(tokens.refreshToken);
    expect(fake.mock.controller.stats.refreshTokenReuse).toBe(0);
  });

  it('a revoked grant ends in ReauthorizationRequiredError', async () => {
    const { client } = await signIn();
    fake.mock.controller.revokeGrants();
    await expect(client.GET('/customers/current')).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it('waits out a 429 and its Retry-After', async () => {
    const { client } = await signIn();
    fake.mock.controller.fail('getCurrentCustomer', { kind: 'rate-limit', retryAfterSeconds: 1 });
    const { data } = await client.GET('/customers/current');
    expect(data.customerId).toBeTruthy();
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'getCurrentCustomer')).toHaveLength(2);
  });

  it('pages to the end', async () => {
    const { client } = await signIn();
    const accounts = [];
    for await (const account of client.paginate('/accounts', { params: { query: { limit: 5 } } })) accounts.push(account);
    expect(accounts).toHaveLength(12);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'listAccounts')).toHaveLength(3);
  });
});
