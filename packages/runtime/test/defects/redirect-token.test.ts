// Decision: a request that carries a token is sent with redirect: 'manual',
// whatever fetch is plugged in, and the runtime follows the redirect itself:
// the token goes along only while the origin stays the API's own.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { startServer, type TestServer } from '../helpers.ts';

/** A fetch like node-fetch 2: follows redirects itself, keeping every header, unless the request says 'manual'. */
const followingFetch: typeof fetch = async (input, init) => {
  let request = new Request(input, init);
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(request, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (request.redirect !== 'follow' || response.status < 300 || response.status > 399 || !location) return response;
    await response.body?.cancel();
    request = new Request(new URL(location, request.url), { method: 'GET', headers: request.headers, redirect: 'follow' });
  }
  throw new TypeError('too many redirects');
};

const PAGE = { data: [], count: 0, paging: { total: 0 } };

describe('redirects of requests carrying a token', () => {
  let api: TestServer;
  let elsewhere: TestServer;
  const TOKEN = 'static-token-redirect-0123456789';
  const client = () => finexer.createClient({ baseUrl: api.url, auth: { accessToken: TOKEN }, fetch: followingFetch, maxRetries: 0 });
  beforeAll(async () => {
    api = await startServer();
    elsewhere = await startServer();
  });
  beforeEach(() => {
    api.reset();
    elsewhere.reset();
  });
  afterAll(async () => {
    await api.close();
    await elsewhere.close();
  });

  it('to another origin: followed without the token, even by a fetch that keeps headers', async () => {
    elsewhere.on('GET /moved', () => ({ status: 200, body: PAGE }));
    api.on('GET /customers', () => ({ status: 302, headers: { location: `${elsewhere.url}/moved` } }));
    const { data, response } = await client().GET('/customers', {});
    expect(response.status).toBe(200);
    expect(data).toEqual(PAGE);
    expect(elsewhere.requests).toHaveLength(1);
    expect(elsewhere.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('within the API origin: followed with the token', async () => {
    api.on('GET /customers', () => ({ status: 307, headers: { location: '/v2/customers' } }));
    api.on('GET /v2/customers', () => ({ status: 200, body: PAGE }));
    expect((await client().GET('/customers', {})).data).toEqual(PAGE);
    expect(api.seen('GET /v2/customers')[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a redirect loop ends after 5 hops with the last 3xx as a failed response', async () => {
    api.on('GET /customers', () => ({ status: 302, headers: { location: '/customers' } }));
    const { error, response } = await client().GET('/customers', {});
    expect(response.status).toBe(302);
    expect(error).toBeUndefined();
    expect(api.seen('GET /customers')).toHaveLength(6);
  });
});
