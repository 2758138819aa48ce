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

describe('look-alike origins: the credential goes only to the API origin itself', () => {
  const API = 'https://api.example.com';
  const TOKEN = 'static-token-lookalike-0123456789';
  // Names that start like the API's origin, or hide it elsewhere in the URL, without being it.
  const LOOKALIKES = [
    'https://api.example.com.evil.example',
    'https://api.example.com:8443',
    'http://api.example.com',
    'https://api.example.comevil.example',
    'https://evil.example/https://api.example.com',
  ];

  /** Where each request went and with what credential; the API's `/customers` redirects to `location`, everything else is a page. */
  function recorder(location?: string) {
    const sent: { url: string; authorization: string | null }[] = [];
    // Only parsed, never sent: the hosts need not exist.
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const { url, headers } = input instanceof Request ? input : { url: String(input), headers: new Headers(init?.headers) };
      sent.push({ url, authorization: headers.get('authorization') });
      if (location !== undefined && url === `${API}/customers`) return new Response(null, { status: 302, headers: { location } });
      return Response.json(PAGE);
    };
    return { sent, client: finexer.createClient({ baseUrl: API, auth: { accessToken: TOKEN }, fetch, maxRetries: 0 }) };
  }

  it.each(LOOKALIKES)('a per-request baseUrl of %s gets no credential', async (lookalike) => {
    const { sent, client } = recorder();
    await client.GET('/customers', { baseUrl: lookalike });
    expect(sent).toHaveLength(1);
    expect(new URL(sent[0]!.url).origin).not.toBe(API);
    expect(sent[0]!.authorization).toBeNull();
  });

  it.each(LOOKALIKES)('a redirect to %s is followed without the credential', async (lookalike) => {
    const { sent, client } = recorder(`${lookalike}/moved`);
    await client.GET('/customers', {});
    expect(sent.map((s) => s.authorization)).toEqual([`Bearer ${TOKEN}`, null]);
  });

  it('the API origin itself, per request or redirected to, gets it', async () => {
    const { sent, client } = recorder(`${API}/moved`);
    await client.GET('/customers', { baseUrl: `${API}/` });
    expect(sent.map((s) => [s.url, s.authorization])).toEqual([
      [`${API}/customers`, `Bearer ${TOKEN}`],
      [`${API}/moved`, `Bearer ${TOKEN}`],
    ]);
  });
});
