// What goes out for a call, through a generated client (Finexer: a token,
// JSON and form bodies): without middleware the attempt is handed to fetch as
// its URL and init (a LeanRequest), with middleware as a Request. For any
// path parameter, query, header and body, fetch must end up with the same
// request either way: the same method, URL, headers and body bytes. And on
// every operation of every provider, no path parameter value moves the
// request: it stays on the API's origin, under its path's fixed prefix, with
// as many segments as its template, or it is refused before it is sent.
import fc from 'fast-check';
import type { Middleware } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../packages/finexer/src/index.ts';
import { listProviders, loadSpec, operations } from '../../tools/lib/specs.ts';
import { anyText, bounded, group, outcome } from './support.ts';

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

// Every operation with path parameters, of every provider, and its client.
const templated = await Promise.all(
  listProviders().flatMap((slug) =>
    operations(loadSpec(slug))
      .filter(({ path }) => path.includes('{'))
      .map(async ({ method, path }) => ({
        slug,
        method,
        path,
        names: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        /** The parameters that are a whole segment by themselves: a dot-like value there must be refused. */
        alone: path
          .split('/')
          .filter((segment) => /^\{[^}]+\}$/.test(segment))
          .map((segment) => segment.slice(1, -1)),
        createClient: ((await import(`../../packages/${slug}/src/index.ts`)) as typeof finexer).createClient,
      })),
  ),
);
const BASE = 'https://api.example.test/v9';
// What URL parsers and servers resolve away: an empty, `.` or `..` segment, in any percent-encoded spelling.
const dotLike = (value: unknown) => /^(?:\.|%(?:25)*2e){0,2}$/i.test(String(value));
const dotSpelling = fc.array(fc.constantFrom('.', '%2e', '%2E', '%252e', '%25252E'), { maxLength: 2 }).map((parts) => parts.join(''));
const pathValue = fc.oneof(
  dotSpelling,
  anyText(12),
  fc.tuple(dotSpelling, fc.constantFrom('/', '\\', '?', '#', '/..', '%2f', ';', ' '), dotSpelling).map((parts) => parts.join('')),
  fc.integer(),
  fc.array(fc.oneof(dotSpelling, anyText(4)), { maxLength: 2 }),
  fc.constant(undefined),
  // Parsed from an end user's JSON or query: objects (keys climbing out), nulls, booleans.
  fc.dictionary(fc.oneof(dotSpelling, fc.constantFrom('../..', '..?x', '/a/'), anyText(4)), fc.oneof(anyText(4), fc.constant(''))),
  fc.constantFrom(null, true, false),
  fc.array(fc.dictionary(anyText(3), anyText(3)), { minLength: 1, maxLength: 1 }),
);
const scalar = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);
const acceptable = (value: unknown) => value === undefined || scalar(value) || (Array.isArray(value) && value.every(scalar));

describe('property: path parameters', () => {
  it('no value moves the request off its origin, its fixed prefix or its segment count; dot segments are refused, unsent', async () => {
    const sentCases = g.counter('path parameter sent');
    const refusedCases = g.counter('path parameter refused');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templated), fc.array(pathValue, { minLength: 4, maxLength: 4 }), async (op, values) => {
        const sent: Sent[] = [];
        const client = op.createClient({
          baseUrl: BASE,
          fetch: recordingFetch(sent),
          auth: { accessToken: 'property-token' },
          maxRetries: 0,
          validateResponses: false,
        });
        const path = Object.fromEntries(op.names.map((name, i) => [name, values[i]]));
        const result = await outcome(() => client.request(op.method as 'get', op.path as never, { params: { path } } as never), 'a call');
        const given = op.names.map((_, i) => values[i]);
        if (!result.ok && (result.error as { code?: string }).code === 'configuration_error') {
          refusedCases();
          expect((result.error as Error).message).toMatch(
            /^path parameter \S+ (may not be empty, "\." or "\.\."|must be a string, number or boolean, or an array of them)$/,
          );
          expect(sent).toEqual([]);
          expect(
            given.some((value) => !acceptable(value) || dotLike(value)),
            `refused ${JSON.stringify(given)}`,
          ).toBe(true);
          return;
        }
        sentCases();
        for (const name of op.alone)
          if (path[name] !== undefined) expect(dotLike(path[name]), `sent ${name}=${JSON.stringify(path[name])}`).toBe(false);
        expect(sent).toHaveLength(1);
        const template = new URL(`${BASE}${op.path}`);
        const url = new URL(sent[0]!.url);
        expect(url.origin).toBe(template.origin);
        expect(url.pathname.startsWith(new URL(`${BASE}${op.path.slice(0, op.path.indexOf('{'))}`).pathname)).toBe(true);
        expect(url.pathname.split('/')).toHaveLength(template.pathname.split('/').length);
      }),
      g.params(1_500),
    );
  });
});
