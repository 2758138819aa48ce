// @portico/expertfile against the mock: client credentials in the form body,
// the token in the {success, data} envelope with an ISO 8601 expiry, offset
// paging with a total, envelope errors.
import { createClient, EnvelopeError, RateLimitError } from '@portico/expertfile';
import { describe, expect, it } from 'vitest';
import { MODES, useMock } from './support.js';

describe.each(MODES)('expertfile through %s', (mode) => {
  const t = useMock('expertfile', mode);
  const client = (extra: object = {}) =>
    createClient({ ...t.clientOptions, auth: { ...t.mock.client, ...t.authOptions }, throwOnError: true, ...extra });

  it('signs in (the enveloped token answer) and reads an expert', async () => {
    const { data } = await client().GET('/organization/{corporation}/expert/{username}', {
      params: { path: { corporation: 4821, username: 'jdoe' } },
    });
    expect(data.success).toBe(true);
    const token = t.mock.controller.requests.find((r) => r.operationId === 'requestAccessToken')!;
    expect(token.body).toContain('client_secret=[redacted]');
  });

  it('pages the expert list by page_from to data.total', async () => {
    const experts = [];
    for await (const expert of client().paginate('/organization/{corporation}/expert', { params: { path: { corporation: 4821 } } }))
      experts.push(expert);
    expect(experts).toHaveLength(12);
    // The default page size is 10: two pages.
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'listExperts')).toHaveLength(2);
  });

  it('an expired token is replaced; a revoked grant too', async () => {
    const c = client();
    const path = { params: { path: { corporation: 4821, username: 'jdoe' } } } as const;
    await c.GET('/organization/{corporation}/expert/{username}/biography', path);
    t.mock.controller.expireAccessTokens();
    await c.GET('/organization/{corporation}/expert/{username}/biography', path);
    t.mock.controller.revokeGrants();
    await c.GET('/organization/{corporation}/expert/{username}/biography', path);
    expect(t.mock.controller.requests.filter((r) => r.operationId === 'requestAccessToken')).toHaveLength(3);
  });

  it('retries a 429 after its Retry-After', async () => {
    t.mock.controller.fail('getExpertTagline', { kind: 'rate-limit', retryAfterSeconds: 1 });
    await client().GET('/organization/{corporation}/expert/{username}/tagline', {
      params: { path: { corporation: 4821, username: 'jdoe' } },
    });
    t.mock.controller.fail('getExpertTagline', { kind: 'rate-limit', retryAfterSeconds: 1 });
    await expect(
      client({ maxRetries: 0 }).GET('/organization/{corporation}/expert/{username}/tagline', {
        params: { path: { corporation: 4821, username: 'jdoe' } },
      }),
    ).rejects.toBeInstanceOf(RateLimitError);
  });

  it('a wrong secret is the enveloped 401; a queued failure is an envelope error', async () => {
    await expect(
      createClient({
        ...t.clientOptions,
        auth: { ...t.mock.client, ...t.authOptions, clientSecret: 'wrong-secret-value' },
        throwOnError: true,
      }).GET('/organization/{corporation}/expert', { params: { path: { corporation: 1 } } }),
    ).rejects.toMatchObject({ status: 401 });
    expect(() => t.mock.controller.respond('deleteExpert', { body: { success: false, msg: 'Expert is locked' } })).toThrow(
      expect.objectContaining({ code: 'invalid_body' }),
    );
    t.mock.controller.respond('deleteExpert', { body: { success: false, msg: 'Expert is locked', data: { id: 1, deleted: false } } });
    await expect(
      client().DELETE('/organization/{corporation}/expert/{username}', { params: { path: { corporation: 4821, username: 'jdoe' } } }),
    ).rejects.toBeInstanceOf(EnvelopeError);
  });
});
