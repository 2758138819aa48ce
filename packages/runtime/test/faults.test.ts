// Group 2: faults injected on a loopback server (resets, a server slower than
// the timeout, 429 storms, 503s), under vitest's fake clock. The clock moves
// only by the sleeps the client announces (or, for a hanging request, by the
// timeout), and the server notes the fake time of every arrival: a client that
// did not wait, or waited longer than it said, fails here.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CredentialInput, type CredentialProfile, createCredentialAuthenticator } from '@portico/auth';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as dapi from '../../dapi/src/index.ts';
import * as dexero from '../../dexero-fd/src/index.ts';
import * as expertfile from '../../expertfile/src/index.ts';
import * as finexer from '../../finexer/src/index.ts';
import { ConnectionError, defineClient, RateLimitError, ServerError, TimeoutError } from '../src/index.ts';
import { backoffMs, retryAfterMs } from '../src/transport.ts';
import { drive, json, MemoryLogger, type Reply, rejectionOf, retrySteps, startServer, type TestServer, until } from './helpers.ts';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0); // a whole second, so HTTP dates are exact
const CUSTOMER = { id: 'cus_1', object: 'customer', name: 'Jane Smith', email: 'jane@example.com' };
const RESET: Reply = { status: 0, reset: true };
const HANG = () => new Promise<Reply>(() => {});

let server: TestServer;
let logger: MemoryLogger;
let hung: number;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

beforeEach(() => {
  server.reset();
  logger = new MemoryLogger();
  hung = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 });
  // No jitter: backoff is exactly 500, 1000, 2000, ... ms.
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const options = (extra: Record<string, unknown> = {}) => ({ baseUrl: server.url, logger, logLevel: 'debug' as const, ...extra });
const hang = () => {
  hung++;
  return HANG();
};
/** Moves the clock by each announced sleep and, once a request hangs on the server, by the timeout. */
function clockFor(timeoutMs?: number) {
  const retries = retrySteps(logger);
  let timedOut = 0;
  return () => {
    const sleep = retries();
    if (sleep !== undefined) return sleep;
    if (timeoutMs !== undefined && hung > timedOut) {
      timedOut++;
      return timeoutMs;
    }
    return undefined;
  };
}
/** Fake-clock offsets at which the server saw each request. */
const arrivals = () => server.arrivals.map((t) => t - T0);

const getCustomer = (client: ReturnType<typeof finexer.createClient>, init: Record<string, unknown> = {}) =>
  client.GET('/customers/{id}', { params: { path: { id: 'cus_1' } }, ...init });

describe('fault injection: connection reset', () => {
  it('a GET reset on every attempt is retried twice with backoff, then is a ConnectionError', async () => {
    server.inject('GET /customers/cus_1', RESET, { times: 3 });
    const client = finexer.createClient(options());
    const error = await rejectionOf(drive(getCustomer(client), clockFor()));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'connection_error', method: 'GET', path: '/customers/{id}' });
    expect(logger.retryDelays()).toEqual([500, 1000]);
    expect(arrivals()).toEqual([0, 500, 1500]);
  });

  it('a reset followed by an answer gives the data', async () => {
    server.inject('GET /customers/cus_1', RESET);
    server.inject('GET /customers/cus_1', json(200, CUSTOMER));
    const client = finexer.createClient(options());
    const { data } = await drive(getCustomer(client), clockFor());
    expect(data).toEqual(CUSTOMER);
    expect(arrivals()).toEqual([0, 500]);
  });

  it.each([200, 500])('a reset in the middle of an HTTP %i body is a ConnectionError, not a raw TypeError', async (status) => {
    let resetNow = () => {};
    const raw = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.write('{"id":"cus_1","object":');
      resetNow = () => res.socket?.resetAndDestroy();
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      // Reset only once the client holds the headers, so the failure is in the body.
      const fetchThenReset: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        resetNow();
        return response;
      };
      const client = finexer.createClient({
        baseUrl: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`,
        fetch: fetchThenReset,
        maxRetries: 0,
      });
      const error = await rejectionOf(getCustomer(client));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: 'connection_error', method: 'GET', path: '/customers/{id}' });
    } finally {
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('a plain POST is not retried after a reset', async () => {
    server.inject('POST /records.json', RESET, { times: 3 });
    const client = dexero.createClient(options());
    const error = await rejectionOf(drive(client.POST('/records.{format}', { body: { firstName: 'Marie' } }), clockFor()));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(server.seen('POST /records.json')).toHaveLength(1);
    expect(logger.retryDelays()).toEqual([]);
  });
});

describe('fault injection: a server slower than the timeout', () => {
  it('each attempt times out and is retried like a connection error, then a TimeoutError', async () => {
    server.inject('GET /customers/cus_1', hang, { times: 3 });
    const client = finexer.createClient(options({ timeout: 2_000 }));
    const error = await rejectionOf(drive(getCustomer(client), clockFor(2_000)));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'timeout', timeoutMs: 2_000, method: 'GET', path: '/customers/{id}' });
    expect(logger.retryDelays()).toEqual([500, 1000]);
    // timeout, sleep, timeout, sleep: each attempt waited the full 2 s and no longer.
    expect(arrivals()).toEqual([0, 2_500, 5_500]);
  });

  it('a timed-out attempt followed by a prompt answer gives the data', async () => {
    server.inject('GET /customers/cus_1', hang);
    server.inject('GET /customers/cus_1', json(200, CUSTOMER));
    const client = finexer.createClient(options({ timeout: 2_000 }));
    const { data } = await drive(getCustomer(client), clockFor(2_000));
    expect(data).toEqual(CUSTOMER);
    expect(arrivals()).toEqual([0, 2_500]);
  });

  it('without a timeout option an attempt gets 60 s', async () => {
    server.inject('GET /customers/cus_1', hang);
    const client = finexer.createClient(options({ maxRetries: 0 }));
    const error = await rejectionOf(drive(getCustomer(client), clockFor(60_000)));
    expect(error).toMatchObject({ code: 'timeout', timeoutMs: 60_000 });
  });

  it('a per-request timeout overrides the client one', async () => {
    server.inject('GET /customers/cus_1', hang);
    const client = finexer.createClient(options({ timeout: 30_000 }));
    const error = await rejectionOf(drive(getCustomer(client, { timeout: 1_000, maxRetries: 0 }), clockFor(1_000)));
    expect(error).toMatchObject({ code: 'timeout', timeoutMs: 1_000 });
    expect(server.arrivals).toHaveLength(1);
  });

  it('a plain POST that times out is not retried', async () => {
    server.inject('POST /records.json', hang, { times: 3 });
    const client = dexero.createClient(options({ timeout: 1_000 }));
    const error = await rejectionOf(drive(client.POST('/records.{format}', { body: { firstName: 'Marie' } }), clockFor(1_000)));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(server.seen('POST /records.json')).toHaveLength(1);
  });
});

describe("one client's deadlines, under one timer", () => {
  it('attempts with different timeouts each time out at their own, the shorter one listed after the longer', async () => {
    server.inject('GET /customers/cus_1', hang, { times: 2 });
    const client = finexer.createClient(options({ timeout: 30_000, maxRetries: 0 }));
    let longSettled = false;
    const long = rejectionOf(getCustomer(client)).finally(() => (longSettled = true));
    await until(() => hung === 1, 'the first request to reach the server');
    const short = rejectionOf(getCustomer(client, { timeout: 1_000 }));
    await until(() => hung === 2, 'the second request to reach the server');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await short).toMatchObject({ code: 'timeout', timeoutMs: 1_000 });
    expect(longSettled).toBe(false);
    await vi.advanceTimersByTimeAsync(28_999);
    expect(longSettled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await long).toMatchObject({ code: 'timeout', timeoutMs: 30_000 });
  });

  it('the timer holds the process open only while an attempt is under way', async () => {
    vi.useRealTimers();
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    const idle = timers();
    let answer: ((response: Response) => void) | undefined;
    const fetch = () => new Promise<Response>((resolve) => (answer = resolve));
    const client = finexer.createClient(options({ fetch }));
    for (let call = 0; call < 2; call++) {
      answer = undefined;
      const pending = getCustomer(client);
      await until(() => answer !== undefined, 'the request to be sent');
      expect(timers()).toBe(idle + 1);
      answer!(Response.json(CUSTOMER));
      expect((await pending).data).toEqual(CUSTOMER);
      expect(timers()).toBe(idle);
    }
  });
});

describe('fault injection: 429 storm with Retry-After', () => {
  const storm = (headers: () => Record<string, string>) =>
    server.inject('GET /customers/cus_1', () => json(429, { error: { message: 'slow down' } }, headers()), { times: 10 });

  it('Retry-After in seconds: waits exactly that long each time, stops at maxRetries and returns the 429', async () => {
    storm(() => ({ 'retry-after': '2' }));
    const client = finexer.createClient(options());
    const { error, response } = await drive(getCustomer(client), clockFor());
    expect(response.status).toBe(429);
    expect(error).toEqual({ error: { message: 'slow down' } });
    expect(logger.retryDelays()).toEqual([2_000, 2_000]);
    expect(arrivals()).toEqual([0, 2_000, 4_000]);
  });

  it('Retry-After as an HTTP date: waits until that date', async () => {
    storm(() => ({ 'retry-after': new Date(Date.now() + 3_000).toUTCString() }));
    const client = finexer.createClient(options());
    const { response } = await drive(getCustomer(client), clockFor());
    expect(response.status).toBe(429);
    expect(logger.retryDelays()).toEqual([3_000, 3_000]);
    expect(arrivals()).toEqual([0, 3_000, 6_000]);
  });

  it('retry-after-ms wins over Retry-After', async () => {
    storm(() => ({ 'retry-after-ms': '250', 'retry-after': '30' }));
    const client = finexer.createClient(options());
    const { response } = await drive(getCustomer(client), clockFor());
    expect(response.status).toBe(429);
    expect(arrivals()).toEqual([0, 250, 500]);
  });

  it('the storm ends: a 429 then success', async () => {
    server.inject('GET /customers/cus_1', json(429, { error: { message: 'slow down' } }, { 'retry-after': '1' }), { times: 2 });
    server.inject('GET /customers/cus_1', json(200, CUSTOMER));
    const client = finexer.createClient(options());
    const { data } = await drive(getCustomer(client), clockFor());
    expect(data).toEqual(CUSTOMER);
    expect(arrivals()).toEqual([0, 1_000, 2_000]);
  });

  it('the last 429 is a RateLimitError in the throwing style', async () => {
    storm(() => ({ 'retry-after': '1', 'x-request-id': 'req-429' }));
    const client = finexer.createClient(options({ throwOnError: true }));
    const error = await rejectionOf(drive(getCustomer(client), clockFor()));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, requestId: 'req-429', body: { error: { message: 'slow down' } } });
    expect(server.arrivals).toHaveLength(3);
  });

  it('a Retry-After longer than the default maxRetryDelay (60 s) is not waited for', async () => {
    storm(() => ({ 'retry-after': '120' }));
    const client = finexer.createClient(options());
    const { response } = await drive(getCustomer(client), clockFor());
    expect(response.status).toBe(429);
    expect(server.arrivals).toHaveLength(1);
    expect(logger.retryDelays()).toEqual([]);
    expect(logger.lines.find((l) => l.level === 'warn')).toMatchObject({
      message: expect.stringContaining('maxRetryDelay'),
      fields: { retryAfterMs: 120_000 },
    });
  });

  it('a client maxRetryDelay caps what is waited for', async () => {
    storm(() => ({ 'retry-after-ms': '1500' }));
    const capped = finexer.createClient(options({ maxRetryDelay: 1_000 }));
    expect((await drive(getCustomer(capped), clockFor())).response.status).toBe(429);
    expect(server.arrivals).toHaveLength(1);

    server.reset();
    storm(() => ({ 'retry-after-ms': '1000' }));
    const atTheCap = finexer.createClient(options({ maxRetryDelay: 1_000 }));
    expect((await drive(getCustomer(atTheCap), clockFor())).response.status).toBe(429);
    expect(server.arrivals).toHaveLength(3);
  });
});

describe('fault injection: 503 then success, and where retries are allowed', () => {
  const unavailable = json(503, { error: { message: 'maintenance' } });

  it('a GET answered 503 then 200 resolves with the data after one backoff', async () => {
    server.inject('GET /customers/cus_1', unavailable);
    server.inject('GET /customers/cus_1', json(200, CUSTOMER));
    const client = finexer.createClient(options());
    const { data, error } = await drive(getCustomer(client), clockFor());
    expect(error).toBeUndefined();
    expect(data).toEqual(CUSTOMER);
    expect(logger.retryDelays()).toEqual([500]);
    expect(arrivals()).toEqual([0, 500]);
  });

  const record = { id: 7, firstName: 'Marie' };
  const operations = [
    {
      name: 'GET (finexer)',
      retried: true,
      route: 'GET /customers/cus_1',
      ok: json(200, CUSTOMER),
      call: () => getCustomer(finexer.createClient(options())),
    },
    {
      name: 'PUT (dexero-fd)',
      retried: true,
      route: 'PUT /records/7.json',
      ok: json(200, record),
      call: () =>
        dexero
          .createClient(options())
          .PUT('/records/{recordId}.{format}', { params: { path: { recordId: 7 } }, body: { firstName: 'Marie' } }),
    },
    {
      name: 'DELETE (expertfile)',
      retried: true,
      route: 'DELETE /organization/4821/expert/jdoe',
      ok: json(200, { success: true, data: { id: 1, deleted: true } }),
      call: () =>
        expertfile
          .createClient(options())
          .DELETE('/organization/{corporation}/expert/{username}', { params: { path: { corporation: 4821, username: 'jdoe' } } }),
    },
    {
      name: 'a Dapi POST marked x-portico-retry-safe',
      retried: true,
      route: 'POST /data/accounts/get',
      ok: json(200, { success: true, status: 'done', accounts: [] }),
      call: () => dapi.createClient(options()).POST('/data/accounts/get', { body: { appSecret: 'app-secret', userSecret: 'user-secret' } }),
    },
    {
      // No provider spec has a PATCH yet: a spec of one, with the defaults every operation gets.
      name: 'a PATCH (RFC 9110 §9.2.2: not idempotent)',
      retried: false,
      route: 'PATCH /records/7',
      ok: json(200, record),
      call: () => {
        const spec = {
          slug: 'patchable',
          defaultBaseUrl: server.url,
          auth: { credentials: [{ Key: { type: 'apiKey', in: 'header', name: 'X-API-Key' } }] } as CredentialProfile,
          operations: {},
        };
        const create = defineClient<any, CredentialInput, Record<never, never>, CredentialProfile>(spec, createCredentialAuthenticator);
        return create(options()).PATCH('/records/7' as never, { body: { firstName: 'Marie' } } as never);
      },
    },
    {
      name: 'a plain POST (dexero-fd create)',
      retried: false,
      route: 'POST /records.json',
      ok: json(201, record),
      call: () => dexero.createClient(options()).POST('/records.{format}', { body: { firstName: 'Marie' } }),
    },
    {
      name: 'a Dapi POST not marked retry-safe (transfer)',
      retried: false,
      route: 'POST /payment/transfer/create',
      ok: json(200, { success: true, status: 'done' }),
      call: () =>
        dapi
          .createClient(options())
          .POST('/payment/transfer/create', { body: { appSecret: 'app-secret', userSecret: 'user-secret', transfer: {} } } as never),
    },
    {
      name: 'a PUT whose body is a ReadableStream (cannot be replayed)',
      retried: false,
      body: '{"firstName":"Marie"}',
      route: 'PUT /records/7.json',
      ok: json(200, record),
      call: () =>
        dexero.createClient(options()).PUT('/records/{recordId}.{format}', {
          params: { path: { recordId: 7 } },
          body: new Blob([JSON.stringify({ firstName: 'Marie' })]).stream() as never,
          bodySerializer: (body: unknown) => body,
          headers: { 'content-type': 'application/json' },
          duplex: 'half',
        } as never),
    },
  ];

  it.each(operations.map((o) => [o.name, o] as const))('%s', async (_name, o) => {
    server.inject(o.route, unavailable, { times: 2 });
    server.inject(o.route, o.ok);
    const { response } = await drive(o.call() as Promise<{ response: Response }>, clockFor());
    if (o.retried) {
      expect(response.status).toBe(o.ok.status);
      expect(arrivals()).toEqual([0, 500, 1_500]);
    } else {
      expect(response.status).toBe(503);
      expect(arrivals()).toEqual([0]);
      expect(logger.retryDelays()).toEqual([]);
    }
    // The replayed requests carried the same body as the first.
    const bodies = server.seen(o.route).map((r) => r.body);
    expect(new Set(bodies).size).toBe(1);
    if ('body' in o) expect(bodies[0]).toBe(o.body);
  });

  it.each([408, 409, 500, 502, 504])('HTTP %i is retried', async (status) => {
    server.inject('GET /customers/cus_1', json(status, { error: { message: 'x' } }));
    server.inject('GET /customers/cus_1', json(200, CUSTOMER));
    const { data } = await drive(getCustomer(finexer.createClient(options())), clockFor());
    expect(data).toEqual(CUSTOMER);
    expect(server.arrivals).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 422])('HTTP %i is not retried', async (status) => {
    server.inject('GET /customers/cus_1', json(status, { error: { message: 'x' } }));
    const { response } = await drive(getCustomer(finexer.createClient(options())), clockFor());
    expect(response.status).toBe(status);
    expect(server.arrivals).toHaveLength(1);
  });
});

describe('fault injection: the retry limit', () => {
  const always503 = () => server.inject('GET /customers/cus_1', json(503, { error: { message: 'down' } }), { times: 20 });

  it('maxRetries defaults to 2: three attempts, then the 503 as a ServerError', async () => {
    always503();
    const error = await rejectionOf(drive(getCustomer(finexer.createClient(options({ throwOnError: true }))), clockFor()));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'server_error', status: 503 });
    expect(arrivals()).toEqual([0, 500, 1_500]);
  });

  it('a client maxRetries of 5 backs off exponentially up to the 8 s cap', async () => {
    always503();
    await drive(getCustomer(finexer.createClient(options({ maxRetries: 5 }))), clockFor());
    expect(logger.retryDelays()).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect(server.arrivals).toHaveLength(6);
  });

  it('a client maxRetries of 1 allows one retry', async () => {
    always503();
    await drive(getCustomer(finexer.createClient(options({ maxRetries: 1 }))), clockFor());
    expect(server.arrivals).toHaveLength(2);
  });

  it('a per-request maxRetries overrides the client one, both ways', async () => {
    always503();
    await drive(getCustomer(finexer.createClient(options({ maxRetries: 5 })), { maxRetries: 0 }), clockFor());
    expect(server.arrivals).toHaveLength(1);

    server.reset();
    always503();
    await drive(getCustomer(finexer.createClient(options({ maxRetries: 0 })), { maxRetries: 3 }), clockFor());
    expect(server.arrivals).toHaveLength(4);
  });

  it('backoff has up to 25 % jitter and is capped; Retry-After parses every form', () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 1)).toBe(375);
    expect(backoffMs(3, () => 0.5)).toBe(3_500);
    expect(backoffMs(20, () => 0)).toBe(8_000);
    const now = T0;
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }), now)).toBe(7_000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now + 9_000).toUTCString() }), now)).toBe(9_000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now - 9_000).toUTCString() }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '120.5' }), now)).toBe(120.5);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
});

describe("fault injection: the user's AbortSignal", () => {
  it('aborting a request in flight rejects at once with the abort reason, and is not retried', async () => {
    server.inject('GET /customers/cus_1', hang, { times: 3 });
    const controller = new AbortController();
    const client = finexer.createClient(options({ timeout: 5_000 }));
    const pending = rejectionOf(getCustomer(client, { signal: controller.signal }));
    await until(() => hung === 1, 'the request to reach the server');
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    // Nothing is left to retry it, even once the timeout would have passed.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.arrivals).toHaveLength(1);
    expect(logger.retryDelays()).toEqual([]);
  });

  it('aborting during a retry sleep stops at once, with the caller’s own reason', async () => {
    server.inject('GET /customers/cus_1', json(503, {}, { 'retry-after': '30' }), { times: 3 });
    const controller = new AbortController();
    const client = finexer.createClient(options());
    const pending = rejectionOf(getCustomer(client, { signal: controller.signal }));
    await until(() => logger.retryDelays().length === 1, 'the first retry sleep');
    const reason = new Error('user navigated away');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.arrivals).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const client = finexer.createClient(options());
    const error = await rejectionOf(getCustomer(client, { signal: AbortSignal.abort() }));
    expect((error as DOMException).name).toBe('AbortError');
    expect(server.requests).toHaveLength(0);
  });
});
