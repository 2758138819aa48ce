// Group 4: `client.paginate(path, init, { maxPages, signal })` walks each
// provider's own paging scheme, as its spec declares it, over three or more
// pages, and stops early when told to. The server's log is the proof: exactly
// the pages needed were requested, with exactly the parameters the scheme uses.
import { ConfigurationError } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as expertfile from '../../expertfile/src/index.ts';
import * as fdx from '../../fdx/src/index.ts';
import * as finexer from '../../finexer/src/index.ts';
import { AuthenticationError, EnvelopeError, PaginationLoopError, ServerError } from '../src/index.ts';
import { offset, paginateBy } from '../src/pagination.ts';
import { json, type RecordedRequest, rejectionOf, startServer, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  server
    .on('GET /fdx/v4/accounts', fdxAccounts)
    .on('GET /v2/organization/4821/expert', expertfileExperts)
    .on('GET /customers', finexerCustomers);
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const queries = (route: string) => server.seen(route).map((r) => r.query.toString());

// FDX: an opaque cursor in page.nextOffset, sent back as `offset`.
const ACCOUNTS = ['a1', 'a2', 'a3', 'a4', 'a5'].map((accountId) => ({ accountId, accountType: 'CHECKING' }));
const CURSORS: Record<string, number> = { '': 0, 'cur-2': 2, 'cur-4': 4 };
function fdxAccounts(request: RecordedRequest) {
  const start = CURSORS[request.query.get('offset') ?? ''];
  if (start === undefined) return json(400, { code: 701, message: 'bad offset' });
  const limit = Number(request.query.get('limit') ?? 2);
  const end = start + limit;
  return json(200, {
    page: end < ACCOUNTS.length ? { nextOffset: `cur-${end}`, totalElements: ACCOUNTS.length } : { totalElements: ACCOUNTS.length },
    accounts: ACCOUNTS.slice(start, end),
  });
}

// ExpertFile: page_from is an item offset, page_size the page length, data.total the size of the whole list.
const EXPERTS = Array.from({ length: 7 }, (_, i) => ({ username: `expert${i + 1}`, tagline: `Expert ${i + 1}` }));
function expertfileExperts(request: RecordedRequest) {
  const from = Number(request.query.get('page_from') ?? 0);
  const size = Number(request.query.get('page_size') ?? 10);
  return json(200, { success: true, data: { experts: EXPERTS.slice(from, from + size), total: EXPERTS.length } });
}

// Finexer: paging.next is the full URL of the next page, on the provider's own host.
const CUSTOMERS = Array.from({ length: 5 }, (_, i) => ({
  id: `cus_${i + 1}`,
  object: 'customer',
  name: `Customer ${i + 1}`,
  email: `c${i + 1}@example.com`,
}));
function finexerCustomers(request: RecordedRequest) {
  const after = request.query.get('starting_after');
  const limit = Number(request.query.get('limit') ?? 10);
  const start = after ? CUSTOMERS.findIndex((c) => c.id === after) + 1 : 0;
  const data = CUSTOMERS.slice(start, start + limit);
  const more = start + limit < CUSTOMERS.length;
  const next = more ? `https://api.finexer.com/customers?starting_after=${data.at(-1)!.id}&limit=${limit}` : null;
  return json(200, { data, count: data.length, paging: { total: CUSTOMERS.length, next, prev: null } });
}

const collect = async <T>(iterator: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
};

interface Scheme {
  route: string;
  all: unknown[];
  pageSize: number;
  /** The query string of each page request for a full walk. */
  pages: string[];
  walk(options?: { maxPages?: number; signal?: AbortSignal }): AsyncIterableIterator<unknown>;
}

const token = 'paging-test-token';
const schemes: Record<string, () => Scheme> = {
  'FDX: page.nextOffset -> offset': () => {
    const client = fdx.createClient({ baseUrl: `${server.url}/fdx/v4`, auth: { accessToken: token } });
    return {
      route: 'GET /fdx/v4/accounts',
      all: ACCOUNTS,
      pageSize: 2,
      pages: ['limit=2', 'limit=2&offset=cur-2', 'limit=2&offset=cur-4'],
      walk: (options) => client.paginate('/accounts', { params: { query: { limit: 2 } } }, options),
    };
  },
  'ExpertFile: page_from / page_size / data.total': () => {
    const client = expertfile.createClient({
      baseUrl: `${server.url}/v2`,
      auth: { clientId: 'x', clientSecret: 'y', tokenUrl: `${server.url}/v2/oauth/token` },
    });
    server.on('POST /v2/oauth/token', () =>
      json(200, {
        success: true,
        data: { accessToken: token, accessTokenExpiresAt: '2999-01-01T00:00:00Z', client: 'x', user: 4821, scope: true },
      }),
    );
    return {
      route: 'GET /v2/organization/4821/expert',
      all: EXPERTS,
      pageSize: 3,
      pages: ['page_size=3', 'page_size=3&page_from=3', 'page_size=3&page_from=6'],
      walk: (options) =>
        client.paginate(
          '/organization/{corporation}/expert',
          { params: { path: { corporation: 4821 }, query: { page_size: 3 } } },
          options,
        ),
    };
  },
  'Finexer: paging.next (a full URL)': () => {
    const client = finexer.createClient({ baseUrl: server.url, auth: { accessToken: token } });
    return {
      route: 'GET /customers',
      all: CUSTOMERS,
      pageSize: 2,
      pages: ['limit=2', 'starting_after=cus_2&limit=2', 'starting_after=cus_4&limit=2'],
      walk: (options) => client.paginate('/customers', { params: { query: { limit: 2 } } } as never, options),
    };
  },
};

for (const [name, make] of Object.entries(schemes)) {
  describe(`pagination: ${name}`, () => {
    it('walks every page, requesting exactly what the scheme says, with the token', async () => {
      const s = make();
      expect(await collect(s.walk())).toStrictEqual(s.all);
      expect(queries(s.route)).toEqual(s.pages);
      expect(server.seen(s.route).every((r) => r.headers.authorization === `Bearer ${token}`)).toBe(true);
    });

    it('stops fetching when the loop breaks', async () => {
      const s = make();
      const seen: unknown[] = [];
      for await (const item of s.walk()) {
        seen.push(item);
        if (seen.length === s.pageSize + 1) break;
      }
      expect(seen).toStrictEqual(s.all.slice(0, s.pageSize + 1));
      // The last item taken is the first of the second page: no third page was asked for.
      expect(queries(s.route)).toEqual(s.pages.slice(0, 2));
    });

    it('stops after maxPages', async () => {
      const s = make();
      const items = await collect(s.walk({ maxPages: 2 }));
      expect(queries(s.route)).toEqual(s.pages.slice(0, 2));
      expect(items).toStrictEqual(s.all.slice(0, items.length));
      expect(items.length).toBeLessThan(s.all.length);
    });

    it('stops when the signal aborts, with its reason', async () => {
      const s = make();
      const controller = new AbortController();
      const reason = new Error('enough');
      const seen: unknown[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const item of s.walk({ signal: controller.signal })) {
            seen.push(item);
            controller.abort(reason);
          }
        })(),
      );
      expect(error).toBe(reason);
      expect(seen).toHaveLength(1);
      expect(queries(s.route)).toEqual(s.pages.slice(0, 1));
    });
  });
}

describe('pagination: failures', () => {
  it('a provider that repeats a cursor stops the walk with PaginationLoopError instead of looping', async () => {
    const stuck = 'https://api.finexer.com/customers?starting_after=cus_2&limit=2';
    for (let i = 0; i < 3; i++)
      server.inject('GET /customers', json(200, { data: CUSTOMERS.slice(0, 2), count: 2, paging: { total: 5, next: stuck } }));
    const client = finexer.createClient({ baseUrl: server.url, auth: { accessToken: token } });
    const error = await rejectionOf(collect(client.paginate('/customers', {})));
    expect(error).toBeInstanceOf(PaginationLoopError);
    expect(error).toMatchObject({ code: 'pagination_loop' });
    expect(server.seen('GET /customers')).toHaveLength(2);
  });

  it('a provider that leads A -> B -> A stops the walk with PaginationLoopError: every page of the walk is remembered', async () => {
    // Each page its own items; the link back to A spells its query in another order.
    const page = (at: string, next: string) => ({
      data: [CUSTOMERS[{ '': 0, A: 1, B: 2 }[at]!]],
      count: 1,
      paging: { total: 5, next },
    });
    server.on('GET /cycle/customers', (r) =>
      json(
        200,
        r.query.get('starting_after') === 'A'
          ? page('A', 'https://api.finexer.com/customers?starting_after=B&limit=1')
          : r.query.get('starting_after') === 'B'
            ? page('B', 'https://api.finexer.com/customers?limit=1&starting_after=A')
            : page('', 'https://api.finexer.com/customers?starting_after=A&limit=1'),
      ),
    );
    const client = finexer.createClient({ baseUrl: `${server.url}/cycle` });
    const error = await rejectionOf(collect(client.paginate('/customers', {}, { maxPages: 20 })));
    expect(error).toMatchObject({ code: 'pagination_loop' });
    expect(queries('GET /cycle/customers')).toEqual(['', 'starting_after=A&limit=1', 'starting_after=B&limit=1']);
  });

  it('two equal items side by side on one-item pages are a list, not a loop', async () => {
    const pages: Record<string, { item: object; next?: string }> = {
      '': { item: { plan: 'basic' }, next: 'B' },
      B: { item: { plan: 'basic' }, next: 'C' },
      C: { item: { plan: 'pro' } },
    };
    server.on('GET /twins/customers', (r) => {
      const page = pages[r.query.get('starting_after') ?? '']!;
      const next = page.next && `https://api.finexer.com/customers?starting_after=${page.next}&limit=1`;
      return json(200, { data: [page.item], count: 1, paging: { total: 3, ...(next ? { next } : {}) } });
    });
    const client = finexer.createClient({ baseUrl: `${server.url}/twins` });
    expect(await collect(client.paginate('/customers', {}))).toEqual([{ plan: 'basic' }, { plan: 'basic' }, { plan: 'pro' }]);
  });

  it('a next link that changes only a timestamp while the page repeats stops the walk before the repeat is yielded', async () => {
    let n = 0;
    server.on('GET /stamped/customers', () =>
      json(200, {
        data: CUSTOMERS.slice(2, 4),
        count: 2,
        paging: { total: 5, next: `https://api.finexer.com/customers?starting_after=cus_4&ts=${++n}` },
      }),
    );
    const client = finexer.createClient({ baseUrl: `${server.url}/stamped` });
    const items: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client.paginate('/customers', {}, { maxPages: 20 })) items.push(item);
      })(),
    );
    expect(error).toMatchObject({ code: 'pagination_loop' });
    expect(items).toEqual(CUSTOMERS.slice(2, 4));
    expect(server.seen('GET /stamped/customers')).toHaveLength(2);
  });

  it('empty pages with a fresh cursor each, for ever, end the walk with PaginationLoopError after 100', async () => {
    let served = 0;
    // Past 150 pages the server itself gives up, so a walk without the bound ends too (with the wrong error).
    server.on('GET /empty/accounts', () =>
      ++served > 150 ? json(400, { message: 'enough' }) : json(200, { page: { nextOffset: `fresh-${served}` }, accounts: [] }),
    );
    const client = fdx.createClient({ baseUrl: `${server.url}/empty` });
    const error = await rejectionOf(collect(client.paginate('/accounts', {})));
    expect(error).toBeInstanceOf(PaginationLoopError);
    expect(error).toMatchObject({ code: 'pagination_loop', message: expect.stringContaining('100 empty ones in a row') });
    expect(server.seen('GET /empty/accounts')).toHaveLength(100);
  });

  it('up to 99 empty pages in a row are walked through, and an item starts the count again', async () => {
    // 99 empty, one item, 99 empty, one item, then the end.
    server.on('GET /sparse/accounts', (r) => {
      const at = Number(r.query.get('offset') ?? 0);
      const accounts = at % 100 === 99 ? [ACCOUNTS[at === 99 ? 0 : 1]] : [];
      return json(200, { page: at < 199 ? { nextOffset: String(at + 1) } : {}, accounts });
    });
    const client = fdx.createClient({ baseUrl: `${server.url}/sparse` });
    expect(await collect(client.paginate('/accounts', {}))).toEqual(ACCOUNTS.slice(0, 2));
    expect(server.seen('GET /sparse/accounts')).toHaveLength(200);
  });

  it('an error page ends the walk with the typed error, even without throwOnError', async () => {
    server.inject(
      'GET /customers',
      json(200, {
        data: CUSTOMERS.slice(0, 2),
        count: 2,
        paging: { total: 5, next: 'https://api.finexer.com/customers?starting_after=cus_2&limit=2' },
      }),
    );
    server.inject('GET /customers', json(401, { error: { message: 'token expired' } }, { 'x-request-id': 'req-p2' }));
    const client = finexer.createClient({ baseUrl: server.url, auth: { accessToken: token } });
    const seen: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client.paginate('/customers', {})) seen.push(item);
      })(),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({
      status: 401,
      method: 'GET',
      path: '/customers',
      requestId: 'req-p2',
      body: { error: { message: 'token expired' } },
    });
    expect(seen).toHaveLength(2);
  });

  it('an error status with an empty body ends the walk too', async () => {
    server.inject(
      'GET /customers',
      json(200, {
        data: CUSTOMERS.slice(0, 2),
        count: 2,
        paging: { total: 5, next: 'https://api.finexer.com/customers?starting_after=cus_2&limit=2' },
      }),
    );
    server.inject('GET /customers', { status: 503, headers: { 'content-length': '0' }, body: '' });
    const client = finexer.createClient({ baseUrl: server.url, maxRetries: 0 });
    const error = await rejectionOf(collect(client.paginate('/customers', {})));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, body: undefined });
  });

  it('a failure envelope at HTTP 200 (ExpertFile success: false) ends the walk with an EnvelopeError', async () => {
    server.inject('GET /v2/organization/4821/expert', json(200, { success: true, data: { experts: EXPERTS.slice(0, 3), total: 7 } }));
    server.inject('GET /v2/organization/4821/expert', json(200, { success: false, msg: 'Search is temporarily disabled' }));
    const client = expertfile.createClient({ baseUrl: `${server.url}/v2` });
    const seen: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client.paginate('/organization/{corporation}/expert', {
          params: { path: { corporation: 4821 }, query: { page_size: 3 } },
        }))
          seen.push(item);
      })(),
    );
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as Error).message).toContain('Search is temporarily disabled');
    expect(seen).toHaveLength(3);
  });

  it('an already aborted signal requests nothing', async () => {
    const client = finexer.createClient({ baseUrl: server.url });
    const error = await rejectionOf(collect(client.paginate('/customers', {}, { signal: AbortSignal.abort() })));
    expect((error as DOMException).name).toBe('AbortError');
    expect(server.requests).toHaveLength(0);
  });

  it('an operation without a paging scheme is refused', () => {
    const client = finexer.createClient({ baseUrl: server.url });
    expect(() => client.paginate('/customers/{id}' as never)).toThrow(TypeError);
  });

  it('a paging style the client was not bound with is a ConfigurationError, before any request', () => {
    const walk = () =>
      paginateBy({ offset })(
        { style: 'cursor', items: '/data' },
        () => Promise.reject(new Error('no request')),
        {},
        {},
        () => new Error('unused'),
      );
    expect(walk).toThrow(ConfigurationError);
    expect(walk).toThrow(/no cursor paging/);
  });
});
