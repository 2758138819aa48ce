// What goes out for a call, through a generated client (Finexer: a token,
// JSON and form bodies): without middleware the attempt is handed to fetch as
// its URL and init (a LeanRequest), with middleware as a Request. For any
// path parameter, query, header and body, fetch must end up with the same
// request either way: the same method, URL, headers and body bytes.
import fc from 'fast-check';
import type { Middleware } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../packages/finexer/src/index.ts';
import { bounded, group } from './support.ts';

const g = group('requests');
const API = 'https://api.example.test';
const CUSTOMER = JSON.stringify({ id: 'cus_1', object: 'customer', name: 'Jane', email: 'jane@example.test' });

interface Sent {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}

/** A fetch that keeps what a real one would send (it builds the Request from its arguments first, as fetch does). */
function recordingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    sent.push({ method: request.method, url: request.url, headers: [...request.headers], body: await request.text() });
    return new Response(CUSTOMER, { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

// A middleware that reads the Request and changes nothing: its presence alone makes attempts Requests.
const watching: Middleware = {
  onRequest({ request }) {
    if (!(request instanceof Request)) throw new Error('middleware was given something other than a Request');
    return undefined;
  },
};

// Visible ASCII and spaces inside: what RFC 9110 allows in a field value (fetch trims the ends itself).
const fieldValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const anyString = fc.string({ unit: 'binary', maxLength: 30 });
const call = fc.record({
  id: anyString.filter((s) => s.length > 0),
  query: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), anyString, { maxKeys: 3 }),
  header: fieldValue,
  body: fc.option(
    fc.record({
      name: anyString,
      email: anyString,
      metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), anyString, { maxKeys: 2 }),
    }),
    { nil: undefined },
  ),
});

describe('property: requests', () => {
  it('fetch gets the same method, URL, headers and body with or without middleware', async () => {
    const count = g.counter('lean request = Request');
    await fc.assert(
      fc.asyncProperty(call, async ({ id, query, header, body }) => {
        count();
        const sent: Sent[] = [];
        const plain = finexer.createClient({ baseUrl: API, fetch: recordingFetch(sent), auth: { accessToken: 'property-token' } });
        const watched = finexer.createClient({ baseUrl: API, fetch: recordingFetch(sent), auth: { accessToken: 'property-token' } });
        watched.use(watching);
        for (const client of [plain, watched]) {
          const init = { params: { path: { id }, query }, headers: { 'x-portico-test': header } };
          await bounded(
            body === undefined
              ? client.request('get', '/customers/{id}', init as never)
              : client.request('post', '/customers', { ...init, params: { query }, body } as never),
            'a call',
          );
        }
        expect(sent).toHaveLength(2);
        expect(sent[0]).toEqual(sent[1]);
        expect(new Headers(sent[0]!.headers).get('authorization')).toBe('Bearer property-token');
      }),
      g.params(300),
    );
  });
});
