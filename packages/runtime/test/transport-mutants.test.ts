// One attempt of an exchange, sent with `deliver` through a fetch played by a
// function, and the retry policy and deadlines beside it: where the
// credential goes along a chain of redirects and what a hop keeps, when a 401
// is replayed and with what, how Retry-After and x-should-retry are read, and
// how one clock's timer times out many attempts. Each test pins behaviour a
// StrykerJS mutant of src/transport.ts changed without any other test noticing.
import type { Authenticator } from '@portico/auth';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../src/errors.ts';
import { createLog } from '../src/log.ts';
import {
  type CallPlan,
  Deadline,
  DeadlineClock,
  deliver,
  LeanRequest,
  retryAfterMs,
  retryDelayAfter,
  type Transport,
} from '../src/transport.ts';
import { MemoryLogger, rejectionOf } from './helpers.ts';

const ORIGIN = 'https://api.example.test';
const TOKEN = 'Bearer tok-1';

/** What the plugged-in fetch was given for one request, read as a server would. */
interface Arrival {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
  /** fetch's second argument as it came. */
  init: RequestInit;
}

/** A fetch that reads each request as a server would (a Request's body is used up by it) and answers with `answer`. */
function server(answer: (arrival: Arrival, index: number) => Response) {
  const arrivals: Arrival[] = [];
  const fetch: Transport['fetch'] = async (input, init) => {
    const request = typeof input === 'string' ? new Request(input, { ...init, duplex: 'half' } as RequestInit) : input;
    const text = request.body === null ? null : await request.text();
    const arrival = { url: request.url, method: request.method, headers: request.headers, body: text, init };
    arrivals.push(arrival);
    return answer(arrival, arrivals.length - 1);
  };
  return { arrivals, fetch };
}

const redirect = (status: number, location: string | null, body: BodyInit | null = null) =>
  new Response(body, { status, headers: location === null ? {} : { location } });

/** Answers each request in turn with the next of `responses`, then 200s. */
const inTurn =
  (...responses: Response[]) =>
  (_arrival: Arrival, index: number) =>
    responses[index] ?? new Response('done');

/** An authenticator handing out `Bearer tok-1`, `Bearer tok-2`, ... one per getAuthorization. */
function tokens() {
  let issued = 0;
  const authenticator: Authenticator = {
    getAuthorization: async () => ({ name: 'authorization', value: `Bearer tok-${++issued}` }),
    handleUnauthorized: async () => true,
  };
  return { authenticator };
}

function transportOf(fetch: Transport['fetch'], authenticator?: Authenticator, log?: Transport['log']): Transport {
  return { fetch, authenticator, ownOrigin: ORIGIN, maxRetryDelayMs: 60_000, log, sent: new Set() };
}

const planOf = (overrides: Partial<CallPlan> = {}): CallPlan => ({
  method: 'GET',
  path: '/things',
  requiresAuth: true,
  replayBody: undefined,
  replayable: true,
  fetch: undefined,
  ...overrides,
});

/** A LeanRequest as openapi-fetch makes one when no middleware needs a Request. */
const lean = (url: string, init: RequestInit = {}) =>
  new LeanRequest(url, { method: 'GET', headers: new Headers(), redirect: 'manual', ...init });

/** Sends `request` once under a deadline far away, stopped afterwards. */
async function send(transport: Transport, request: LeanRequest | Request, plan = planOf(), ext?: RequestInit) {
  const deadline = new Deadline(new DeadlineClock(), 60_000, undefined, () => new TimeoutError(plan.method, plan.path, 60_000));
  try {
    return await deliver(transport, request, plan, deadline, ext);
  } finally {
    deadline.stop();
  }
}

describe('which redirects are followed', () => {
  it('a redirect without a Location, or to one that does not parse, is the answer itself', async () => {
    for (const location of [null, 'http://[not-a-host']) {
      const { arrivals, fetch } = server(inTurn(redirect(302, location)));
      const response = await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
      expect(response.status).toBe(302);
      expect(arrivals).toHaveLength(1);
    }
  });

  it.each(['ftp://files.example.test/x', 'data:text/plain,hi', 'javascript:alert(1)'])(
    'a redirect to %s (not http or https) is the answer itself',
    async (location) => {
      const { arrivals, fetch } = server(inTurn(redirect(302, location)));
      const response = await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
      expect(response.status).toBe(302);
      expect(arrivals).toHaveLength(1);
    },
  );

  it.each(['http://cdn.example.test/file', 'https://cdn.example.test/file'])('a redirect to %s is followed', async (location) => {
    const { arrivals, fetch } = server(inTurn(redirect(302, location)));
    const response = await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
    expect(await response.text()).toBe('done');
    expect(arrivals.map((a) => a.url)).toEqual([`${ORIGIN}/things`, location]);
  });
});

describe('what a hop keeps of the request (WHATWG Fetch §4.4)', () => {
  const body = '{"name":"n"}';
  const headers = () => new Headers({ 'content-type': 'application/json', 'content-language': 'en', 'x-trace': 't' });

  it.each([
    [303, 'POST', 'GET'],
    [303, 'PUT', 'GET'],
    [303, 'HEAD', 'HEAD'],
    [301, 'POST', 'GET'],
    [302, 'POST', 'GET'],
    [301, 'PUT', 'PUT'],
    [302, 'PATCH', 'PATCH'],
    [307, 'POST', 'POST'],
    [308, 'POST', 'POST'],
  ] as const)('a %i after a %s goes on as a %s', async (status, method, followedAs) => {
    const { arrivals, fetch } = server(inTurn(redirect(status, '/moved')));
    const withBody = method !== 'HEAD';
    const request = lean(`${ORIGIN}/things`, { method, headers: headers(), body: withBody ? body : null });
    await send(transportOf(fetch, tokens().authenticator), request, planOf({ method, replayBody: withBody ? body : undefined }));
    const followed = arrivals[1]!;
    expect(followed.method).toBe(followedAs);
    const asGet = followedAs === 'GET';
    // The body and what describes it go only where the method still has them.
    expect(followed.body).toBe(asGet || !withBody ? null : body);
    expect(followed.headers.get('content-type')).toBe(asGet ? null : 'application/json');
    expect(followed.headers.get('content-language')).toBe(asGet ? null : 'en');
    expect(followed.headers.get('x-trace')).toBe('t');
    expect(followed.headers.get('authorization')).toBe(TOKEN);
  });

  it('a one-shot stream body cannot go along a 307: its answer is the redirect itself', async () => {
    const { arrivals, fetch } = server(inTurn(redirect(307, '/moved')));
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'));
        controller.close();
      },
    });
    const request = lean(`${ORIGIN}/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    const response = await send(transportOf(fetch, tokens().authenticator), request, planOf({ method: 'POST', replayable: false }));
    expect(response.status).toBe(307);
    expect(arrivals).toHaveLength(1);
  });

  it('a one-shot stream body is not needed along a 303, which goes on as a GET', async () => {
    const { arrivals, fetch } = server(inTurn(redirect(303, '/status')));
    const request = lean(`${ORIGIN}/upload`, { method: 'POST', body: new Blob(['once']).stream(), duplex: 'half' } as RequestInit);
    const response = await send(transportOf(fetch, tokens().authenticator), request, planOf({ method: 'POST', replayable: false }));
    expect(await response.text()).toBe('done');
    expect(arrivals.map((a) => `${a.method} ${a.url}`)).toEqual([`POST ${ORIGIN}/upload`, `GET ${ORIGIN}/status`]);
  });

  it("a redirect's own body is released before the next hop", async () => {
    let released = false;
    const body = new ReadableStream({
      cancel() {
        released = true;
      },
    });
    const { fetch } = server(inTurn(redirect(302, '/moved', body)));
    await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
    expect(released).toBe(true);
  });

  it("another host's query goes as the server wrote it when the credential is not in it", async () => {
    const location = 'https://cdn.example.test/file?sig=a%20b&flag&x=1+2';
    const { arrivals, fetch } = server(inTurn(redirect(302, location)));
    await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
    expect(arrivals[1]!.url).toBe(location);
  });
});

describe('the credential and the tokens remembered for redaction', () => {
  /** Sends one request per token, each getAuthorization a new token, and returns what is remembered. */
  async function rememberedAfter(count: number, order: (issued: number) => number = (issued) => issued) {
    let issued = 0;
    const authenticator: Authenticator = {
      getAuthorization: async () => ({ name: 'authorization', value: `Bearer tok-${order(++issued)}` }),
      handleUnauthorized: async () => false,
    };
    const transport = transportOf(server(() => new Response('ok')).fetch, authenticator);
    for (let i = 0; i < count; i++) await send(transport, lean(`${ORIGIN}/things`));
    return transport.sent;
  }

  it('the last four credentials are remembered, header and token alike, and a fifth drops the oldest', async () => {
    const four = ['1', '2', '3', '4'].flatMap((n) => [`Bearer tok-${n}`, `tok-${n}`]);
    expect([...(await rememberedAfter(4))]).toEqual(four);
    expect([...(await rememberedAfter(5))]).toEqual([...four.slice(2), 'Bearer tok-5', 'tok-5']);
  });

  it('a credential sent again counts as the newest, so it outlives older ones', async () => {
    // tok-1, 2, 3, 4, then tok-1 again, then tok-5: tok-2 is the oldest then.
    const sent = await rememberedAfter(6, (issued) => [0, 1, 2, 3, 4, 1, 5][issued]!);
    expect(sent.has('tok-1')).toBe(true);
    expect(sent.has('tok-2')).toBe(false);
  });

  it('an authenticator that knows no cached credential is asked for one', async () => {
    const { arrivals, fetch } = server(() => new Response('ok'));
    await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
    expect(arrivals[0]!.headers.get('authorization')).toBe(TOKEN);
  });
});

describe('the replay after a 401', () => {
  it("replays a middleware's Request with its body, under the fresh credential, after releasing the 401's body", async () => {
    let released = false;
    const unauthorized = new Response(new ReadableStream({ cancel: () => void (released = true) }), { status: 401 });
    const { arrivals, fetch } = server(inTurn(unauthorized));
    const logger = new MemoryLogger();
    const transport = transportOf(fetch, tokens().authenticator, createLog(logger, 'debug'));
    const body = '{"name":"n"}';
    const request = new Request(`${ORIGIN}/things`, { method: 'POST', body, redirect: 'manual' });
    const response = await send(transport, request, planOf({ method: 'POST', replayBody: body }));
    expect(await response.text()).toBe('done');
    expect(arrivals.map((a) => [a.method, a.body, a.headers.get('authorization')])).toEqual([
      ['POST', body, TOKEN],
      ['POST', body, 'Bearer tok-2'],
    ]);
    expect(released).toBe(true);
    // The fresh token may be echoed back like the first: both are redacted.
    expect(transport.sent.has('tok-2')).toBe(true);
    expect(logger.lines).toContainEqual({
      level: 'debug',
      message: '[portico] replaying after 401 with a new token',
      fields: { method: 'POST', path: '/things' },
    });
  });

  it("replays a middleware's Request without a body as it was", async () => {
    const { arrivals, fetch } = server(inTurn(new Response(null, { status: 401 })));
    const request = new Request(`${ORIGIN}/things?page=2`, { headers: { 'x-trace': 't' }, redirect: 'manual' });
    await send(transportOf(fetch, tokens().authenticator), request);
    expect(arrivals.map((a) => [a.method, a.url, a.headers.get('x-trace'), a.headers.get('authorization')])).toEqual([
      ['GET', `${ORIGIN}/things?page=2`, 't', TOKEN],
      ['GET', `${ORIGIN}/things?page=2`, 't', 'Bearer tok-2'],
    ]);
  });

  it('a replay that is redirected is followed with the fresh credential', async () => {
    const { arrivals, fetch } = server(inTurn(new Response(null, { status: 401 }), redirect(307, '/moved')));
    const response = await send(transportOf(fetch, tokens().authenticator), lean(`${ORIGIN}/things`));
    expect(await response.text()).toBe('done');
    expect(arrivals.map((a) => [a.url, a.headers.get('authorization')])).toEqual([
      [`${ORIGIN}/things`, TOKEN],
      [`${ORIGIN}/things`, 'Bearer tok-2'],
      [`${ORIGIN}/moved`, 'Bearer tok-2'],
    ]);
  });
});

describe('when an answer is retried, and after how long', () => {
  const transport = transportOf(server(() => new Response()).fetch);
  const delayAfter = (status: number, headers: Record<string, string> = {}) =>
    retryDelayAfter(transport, planOf(), new Response(null, { status, headers }), 0);

  it("every 5xx is retried, up to 599; a 600 (from a fetch plugged in that is not WHATWG's) is not", () => {
    expect(delayAfter(599)).toBeGreaterThan(0);
    const beyond = { status: 600, headers: new Headers() } as Response;
    expect(retryDelayAfter(transport, planOf(), beyond, 0)).toBeUndefined();
  });

  it("the server's x-should-retry decides over the status; any other value leaves it to the status", () => {
    expect(delayAfter(503, { 'x-should-retry': 'false' })).toBeUndefined();
    expect(delayAfter(400, { 'x-should-retry': 'true' })).toBeGreaterThan(0);
    expect(delayAfter(400, { 'x-should-retry': 'yes' })).toBeUndefined();
    expect(delayAfter(503, { 'x-should-retry': 'no' })).toBeGreaterThan(0);
    expect(delayAfter(503, { 'x-should-retry': '' })).toBeGreaterThan(0);
  });

  it('retry-after-ms takes a fraction of more than one digit', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '1.25' }))).toBe(1.25);
  });

  it('whitespace around a retry delay that Headers keeps (a form feed) is ignored, as around any value', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '\f250\f' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '\f5\f' }))).toBe(5_000);
  });
});

describe('Retry-After as an HTTP-date (RFC 9110 §5.6.7)', () => {
  const NOW = Date.UTC(1994, 10, 6, 8, 49, 0);
  const after = (value: string) => retryAfterMs(new Headers({ 'retry-after': value }), NOW);

  it.each([
    'sun, 06 Nov 1994 08:49:37 GMT',
    'SUN, 06 NOV 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 94 08:49:37 GMT',
    'Sun, 06 Nov 1994 8:49:37 GMT',
    'Sun, 06 November 1994 08:49:37 GMT',
    'Sun 06 Nov 1994 08:49:37 GMT',
    'Sun,  06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37  GMT',
    'Sun, 06 Nov 1994 08:49:37.5 GMT',
    'Sun, 06 Nov 1994 08:49:37 gmt',
    'On Sun, 06 Nov 1994 08:49:37 GMT',
    'Sund, 06-Nov-94 08:49:37 GMT',
    'Satur, 05-Nov-94 08:49:37 GMT',
    'Wednesdayy, 09-Nov-94 08:49:37 GMT',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    'Sunday, 6-Nov-94 08:49:37 GMT',
    'Sunday 06-Nov-94 08:49:37 GMT',
    'Sunday, 06-nov-94 08:49:37 GMT',
    'x Sunday, 06-Nov-94 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT+0100',
    'Sun Nov 6 08:49:37 1994',
    'sun Nov  6 08:49:37 1994',
    'Sun Nov  6 08:49:37 94',
    'Sun Nov  6 8:49:37 1994',
    'Sun Nov  6 08:49:37 1994 GMT',
    'Sun Nov  6 08:49:37 1994 +0100',
  ])('%j, which Date.parse reads, is not one of its three forms: ignored', (value) => {
    expect(after(value)).toBeUndefined();
  });

  it.each([
    ['Wednesday, 09-Nov-94 08:49:00 GMT', 3 * 86_400_000],
    ['Sun Nov 06 08:49:37 1994', 37_000],
  ] as const)('%j waits %i ms', (value, ms) => {
    expect(after(value)).toBe(ms);
  });

  it("an asctime date, which has no zone, is GMT whatever the machine's time zone", () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(after('Sun Nov  6 08:49:37 1994')).toBe(37_000);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe("fetch's init", () => {
  it("a LeanRequest carries fetch's other options the caller gave, and takes those of requestInitExt it does not set", async () => {
    const { arrivals, fetch } = server(() => new Response('ok'));
    const request = lean(`${ORIGIN}/things`, { cache: 'no-store', keepalive: true });
    await send(transportOf(fetch), request, planOf({ requiresAuth: false }), { priority: 'low', cache: 'reload', method: 'DELETE' });
    const init = arrivals[0]!.init;
    expect([init.cache, init.keepalive, init.priority, init.method]).toEqual(['no-store', true, 'low', 'GET']);
  });

  it("a Request goes with requestInitExt and its own extras, never with what it holds itself, and with the attempt's signal", async () => {
    const { arrivals, fetch } = server(() => new Response('ok'));
    const request = Object.assign(new Request(`${ORIGIN}/things`, { method: 'POST', body: 'b', redirect: 'manual' }), {
      dispatcher: 'own-dispatcher',
    });
    const ext = {
      cache: 'no-store',
      method: 'DELETE',
      headers: { authorization: 'Bearer forged' },
      body: 'other',
      redirect: 'follow',
      signal: new AbortController().signal,
      url: 'https://elsewhere.example.test/',
      duplex: 'half',
    } as RequestInit;
    await send(transportOf(fetch), request, planOf({ method: 'POST', requiresAuth: false, replayBody: 'b' }), ext);
    const { init } = arrivals[0]!;
    expect(Object.keys(init).sort()).toEqual(['cache', 'dispatcher', 'signal']);
    expect(init).toMatchObject({ cache: 'no-store', dispatcher: 'own-dispatcher' });
    expect(init.signal).not.toBe(ext.signal);
    expect(arrivals[0]!.method).toBe('POST');
  });
});

describe('deadlines on one clock', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** Deadlines on one clock, each noting when (in ms from the start) it timed out. */
  function clockOf() {
    const clock = new DeadlineClock();
    const start = Date.now();
    const expired: string[] = [];
    const add = (name: string, timeoutMs: number, signal?: AbortSignal) =>
      new Deadline(clock, timeoutMs, signal, () => {
        expired.push(`${name}@${Date.now() - start}`);
        return new TimeoutError('GET', `/${name}`, timeoutMs);
      });
    return { add, expired };
  }

  it('each times out when it falls due, whatever order the attempts started in, under one timer; a stopped one never', async () => {
    vi.useFakeTimers();
    const { add, expired } = clockOf();
    const deadlines = [add('a', 30), add('b', 10), add('c', 20), add('d', 10), add('e', 40), add('f', 25), add('g', 5)];
    // A stopped head, a stopped one between others, a stopped tail.
    for (const i of [6, 2, 4]) deadlines[i]!.stop();
    for (let ms = 0; ms < 50; ms++) {
      expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
      await vi.advanceTimersByTimeAsync(1);
    }
    // Attempts due together time out in the order they started.
    expect(expired).toEqual(['b@10', 'd@10', 'f@25', 'a@30']);
  });

  it('an attempt stopped after it timed out leaves the others on the clock', async () => {
    vi.useFakeTimers();
    const { add, expired } = clockOf();
    const first = add('first', 10);
    add('second', 20);
    await vi.advanceTimersByTimeAsync(10);
    first.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(expired).toEqual(['first@10', 'second@20']);
  });

  it('a timeout a timer cannot hold (under 1 ms, not a number, past 2^31-1 ms) is 1 ms, as setTimeout makes it', async () => {
    vi.useFakeTimers();
    const { add, expired } = clockOf();
    add('ten', 10);
    const longest = add('longest', 2 ** 31 - 1);
    for (const [name, ms] of [
      ['zero', 0],
      ['negative', -5],
      ['nan', Number.NaN],
      ['infinite', Infinity],
      ['past', 2 ** 31],
    ] as const)
      add(name, ms);
    await vi.advanceTimersByTimeAsync(0);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(expired).toEqual(['zero@1', 'negative@1', 'nan@1', 'infinite@1', 'past@1', 'ten@10']);
    expect(longest.aborted).toBe(false);
    longest.stop();
  });

  it('what a timer was set for is due when it fires, even if the wall clock was set back meanwhile', async () => {
    vi.useFakeTimers();
    const { add } = clockOf();
    const deadline = add('a', 100);
    await vi.advanceTimersByTimeAsync(50);
    vi.setSystemTime(Date.now() - 60_000);
    await vi.advanceTimersByTimeAsync(50);
    expect(deadline.timedOut).toBeInstanceOf(TimeoutError);
  });

  it('the timer holds the process open only while an attempt is under way, and stays set between attempts', () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const { add } = clockOf();
    const first = add('first', 60_000);
    const timer = setTimer.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(true);
    const second = add('second', 60_000);
    first.stop();
    expect(timer.hasRef()).toBe(true);
    second.stop();
    expect(timer.hasRef()).toBe(false);
    const third = add('third', 60_000);
    expect(timer.hasRef()).toBe(true);
    third.stop();
    expect(setTimer).toHaveBeenCalledTimes(1);
    clearTimeout(timer);
  });

  it("a timer that cannot be unref'd (a browser's, a number) is cleared while no attempt is under way", () => {
    const callbacks = new Map<number, () => void>();
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void) => {
      callbacks.set(callbacks.size + 1, callback);
      return callbacks.size;
    }) as unknown as typeof setTimeout);
    const cleared = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(() => {});
    const { add, expired } = clockOf();
    add('first', 1_000).stop();
    expect(cleared.mock.calls).toEqual([[1]]);
    add('second', 1_000);
    expect(callbacks.size).toBe(2);
    callbacks.get(2)!();
    expect(expired).toHaveLength(1);
  });
});

describe("a deadline and the caller's signal", () => {
  const deadlineOf = (signal?: AbortSignal, timeoutMs = 10) => {
    let timeouts = 0;
    const deadline = new Deadline(new DeadlineClock(), timeoutMs, signal, () => {
      timeouts++;
      return new TimeoutError('GET', '/things', timeoutMs);
    });
    return { deadline, timeouts: () => timeouts };
  };

  afterEach(() => {
    vi.useRealTimers();
  });

  it('a signal aborted already aborts the attempt before anything starts', async () => {
    const { deadline } = deadlineOf(AbortSignal.abort('gave up'));
    let started = false;
    expect(await rejectionOf(deadline.race(async () => void (started = true)))).toBe('gave up');
    expect(started).toBe(false);
    expect(deadline.signal().reason).toBe('gave up');
    deadline.stop();
  });

  it("a signal asked for after the timeout is aborted already, with the timeout's error; one asked for before aborts with it", async () => {
    vi.useFakeTimers();
    const { deadline } = deadlineOf();
    const early = deadline.signal();
    expect(early.aborted).toBe(false);
    // One signal for the attempt: what fetch watches and what a later reader gets abort together.
    expect(deadline.signal()).toBe(early);
    await vi.advanceTimersByTimeAsync(10);
    expect(early.reason).toBeInstanceOf(TimeoutError);
    const late = deadlineOf();
    await vi.advanceTimersByTimeAsync(10);
    expect(late.deadline.signal().reason).toBe(late.deadline.timedOut);
  });

  it("the caller's abort is not turned into a timeout when the timer fires later", async () => {
    vi.useFakeTimers();
    const caller = new AbortController();
    const { deadline, timeouts } = deadlineOf(caller.signal);
    caller.abort('stop');
    await vi.advanceTimersByTimeAsync(10);
    expect([deadline.timedOut, timeouts()]).toEqual([undefined, 0]);
    expect(await rejectionOf(deadline.race(async () => 'late'))).toBe('stop');
  });

  it('a timeout stays the reason when the caller aborts afterwards', async () => {
    vi.useFakeTimers();
    const caller = new AbortController();
    const { deadline } = deadlineOf(caller.signal);
    await vi.advanceTimersByTimeAsync(10);
    caller.abort('stop');
    expect(await rejectionOf(deadline.race(async () => 'late'))).toBeInstanceOf(TimeoutError);
  });

  it("a stopped deadline no longer follows the caller's signal", () => {
    const caller = new AbortController();
    const { deadline } = deadlineOf(caller.signal, 60_000);
    deadline.stop();
    caller.abort('stop');
    expect(deadline.aborted).toBe(false);
  });
});
