// @portico/dexero-fd against the mock: client credentials with HTTP Basic,
// the representation chosen by the path suffix (JSON, or XML written and read
// by the schemas' xml metadata).
import { createClient, RateLimitError, ServerError } from '@portico/dexero-fd';
import { describe, expect, it } from 'vitest';
import { MODES, useMock } from './support.js';

describe.each(MODES)('dexero-fd through %s', (mode) => {
  const t = useMock('dexero-fd', mode);
  const client = (extra: object = {}) =>
    createClient({ ...t.clientOptions, auth: { ...t.mock.client, ...t.authOptions, ...extra }, throwOnError: true });

  it('signs in with client credentials and lists records as JSON', async () => {
    const { data } = await client().GET('/records.{format}', { params: { path: { format: 'json' } } });
    expect(data.records.length).toBeGreaterThan(0);
    const token = t.mock.controller.requests.find((r) => r.operationId === 'requestAccessToken')!;
    expect(token.body).toBe('scope=read&grant_type=client_credentials');
  });

  it('answers in XML when the path asks for it, and reads an XML body', async () => {
    const c = client();
    const { data, response } = await c.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    expect(response.headers.get('content-type')).toContain('application/xml');
    expect(data.records[0]?.id).toBe(1024);
    const created = await c.POST('/records.{format}', {
      params: { path: { format: 'xml' } },
      body: { type: 'individual', firstName: 'Marie', lastName: 'Tremblay', active: true },
    });
    expect(created.response.status).toBe(201);
    const sent = t.mock.controller.requests.find((r) => r.operationId === 'createRecord')!;
    expect(sent.body).toContain('<record><type>individual</type>');
  });

  it('an expired or revoked token is replaced by a new grant', async () => {
    const c = client();
    await c.GET('/records.{format}', { params: { path: { format: 'json' } } });
    t.mock.controller.expireAccessTokens();
    await c.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: { q: 'Tremblay' } } });
    t.mock.controller.revokeGrants();
    await c.GET('/records.{format}', { params: { path: { format: 'json' } } });
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'requestAccessToken')).toHaveLength(3);
  });

  it('a wrong secret is invalid_client; a bad request the documented error', async () => {
    await expect(
      client({ clientSecret: 'not-the-secret-at-all' }).GET('/records.{format}', { params: { path: { format: 'json' } } }),
    ).rejects.toMatchObject({
      code: 'oauth_error',
      error: 'invalid_client',
      status: 401,
    });
    const bad = await createClient({ ...t.clientOptions, auth: { ...t.mock.client, ...t.authOptions } }).PUT(
      '/records/{recordId}.{format}',
      {
        params: { path: { recordId: 0, format: 'json' } },
        body: {},
      },
    );
    expect(bad.response.status).toBe(400);
  });

  it('retries a 429 after its Retry-After; a 503 surfaces once retries run out', async () => {
    const c = client({});
    t.mock.controller.fail('listRecords', { kind: 'rate-limit', retryAfterSeconds: 1 });
    await c.GET('/records.{format}', { params: { path: { format: 'json' } } });
    t.mock.controller.fail('listRecords', { kind: 'server-error', status: 503 }, { times: 3 });
    await expect(c.GET('/records.{format}', { params: { path: { format: 'xml' } } })).rejects.toBeInstanceOf(ServerError);
    t.mock.controller.fail('listRecords', { kind: 'rate-limit', retryAfterSeconds: 1 }, { times: 3 });
    await expect(
      createClient({ ...t.clientOptions, auth: { ...t.mock.client, ...t.authOptions }, throwOnError: true, maxRetries: 0 }).GET(
        '/records.{format}',
        {
          params: { path: { format: 'json' } },
        },
      ),
    ).rejects.toBeInstanceOf(RateLimitError);
  });
});
