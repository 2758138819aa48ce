import { createClient } from '@portico/expertfile';
import { describe, expect, it } from 'vitest';
import { useFake, WAYS } from './mock-fake.js';

describe.each(WAYS)('expertfile, through %s', (way) => {
  const fake = useFake('expertfile', way);
  const signIn = () => createClient({ ...fake.clientOptions, auth: { ...fake.mock.client, ...fake.authOptions }, throwOnError: true });
  const experts = { params: { path: { corporation: 767 } } };

  it('signs in (client credentials, enveloped token response) and calls the API', async () => {
    const { data } = await signIn().GET('/organization/{corporation}/expert', experts);
    expect(data.data.experts.length).toBeGreaterThan(0);
  });

  // Client credentials have no refresh token: the renewal, and the way back from a revoked grant, is a new grant.
  it('renews an expired token, and a revoked one, with a new grant', async () => {
    const client = signIn();
    await client.GET('/organization/{corporation}/expert', experts);
    fake.mock.controller.expireAccessTokens();
    await client.GET('/organization/{corporation}/expert', experts);
    fake.mock.controller.revokeGrants();
    await client.GET('/organization/{corporation}/expert', experts);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'requestAccessToken')).toHaveLength(3);
  });

  it('waits out a 429 and its Retry-After', async () => {
    const client = signIn();
    fake.mock.controller.fail('listExperts', { kind: 'rate-limit', retryAfterSeconds: 1 });
    expect((await client.GET('/organization/{corporation}/expert', experts)).data.data.experts.length).toBeGreaterThan(0);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'listExperts')).toHaveLength(2);
  });

  it('pages to the end', async () => {
    const all = [];
    for await (const expert of signIn().paginate('/organization/{corporation}/expert', {
      params: { path: { corporation: 767 }, query: { page_size: 5 } },
    }))
      all.push(expert);
    expect(all).toHaveLength(12);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'listExperts')).toHaveLength(3);
  });
});
