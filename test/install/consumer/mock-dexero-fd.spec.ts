import { createClient } from '@portico/dexero-fd';
import { describe, expect, it } from 'vitest';
import { useFake, WAYS } from './mock-fake.js';

describe.each(WAYS)('dexero-fd, through %s', (way) => {
  const fake = useFake('dexero-fd', way);
  const signIn = () => createClient({ ...fake.clientOptions, auth: { ...fake.mock.client, ...fake.authOptions }, throwOnError: true });
  const tokenRequests = () => fake.mock.controller.requests.filter((r) => r.operationId === 'requestAccessToken');

  it('signs in (client credentials) and calls the API, in JSON and in XML', async () => {
    const client = signIn();
    expect((await client.GET('/records.{format}', { params: { path: { format: 'json' } } })).data.records.length).toBeGreaterThan(0);
    const xml = await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    expect(xml.response.headers.get('content-type')).toContain('xml');
    expect(xml.data.records.length).toBeGreaterThan(0);
  });

  // Client credentials have no refresh token: the renewal, and the way back from a revoked grant, is a new grant.
  it('renews an expired token, and a revoked one, with a new grant', async () => {
    const client = signIn();
    await client.GET('/records.{format}', { params: { path: { format: 'json' } } });
    fake.mock.controller.expireAccessTokens();
    await client.GET('/records.{format}', { params: { path: { format: 'json' } } });
    fake.mock.controller.revokeGrants();
    await client.GET('/records.{format}', { params: { path: { format: 'json' } } });
    expect(tokenRequests()).toHaveLength(3);
  });

  it('waits out a 429 and its Retry-After', async () => {
    const client = signIn();
    fake.mock.controller.fail('listRecords', { kind: 'rate-limit', retryAfterSeconds: 1 });
    expect((await client.GET('/records.{format}', { params: { path: { format: 'json' } } })).data.records.length).toBeGreaterThan(0);
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'listRecords')).toHaveLength(2);
  });
});
