// SECURITY.md T28b-T28d on real Redis (review 10's findings 1, 2 and 4): a
// rotated refresh token is never spent twice and never forgotten, when the
// holder's process closes its store with RT1 out (Redis up the whole time, or
// behind a wrapper store, or with the wall clock stepped), and when a beat
// that timed out lands after all. RT1 is held at the token endpoint; the
// other process (B) must then find RT2.
import { createOAuthFlow, type TokenStore } from '@portico/auth';
import {
  expiredRotatingTokens,
  loadProfile,
  type RedisServer,
  type RotatingTokenServer,
  rotatingFlowOptions,
  startRedis,
  startRotatingTokenServer,
} from '@portico/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, type RedisTokenStore } from '../src/index.js';

const LOCK_TTL_MS = 500;

let redis: RedisServer;
let server: RotatingTokenServer;
const stores: RedisTokenStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  vi.restoreAllMocks();
  // A test that failed midway may have left Redis stopped or stalled.
  if (redis.pid !== undefined) process.kill(redis.pid, 'SIGCONT');
  await redis.start();
  await Promise.all([...stores.splice(0).map((store) => store.close()), server?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store that forwards everything to the Redis store, as a metrics or logging wrapper does. */
const wrapped = (inner: RedisTokenStore): TokenStore => ({
  spendingMarks: inner.spendingMarks,
  cacheMs: inner.cacheMs,
  get: (key) => inner.get(key),
  set: (key, tokens, expected, spending) => inner.set(key, tokens, expected, spending),
  delete: (key, expected) => inner.delete(key, expected),
  lock: (key, fn, signal) => inner.lock(key, fn, signal),
});

async function twoProcesses(test: string, options: { timeoutMs?: number; wrap?: boolean } = {}) {
  server = await startRotatingTokenServer();
  const flow = createOAuthFlow(loadProfile('finexer').profile, rotatingFlowOptions(server, options.timeoutMs ?? 10_000));
  const key = `spending-close:${test}`;
  const open = () => {
    const store = createRedisStore({ url: redis.url, lockTtlMs: LOCK_TTL_MS });
    stores.push(store);
    return { store, session: flow.session(expiredRotatingTokens(), { store: options.wrap ? wrapped(store) : store, key }) };
  };
  const [a, b] = [open(), open()];
  await a.session.tokens();
  await b.session.tokens();
  return { a, b, key };
}

/** B's answer once RT1 was spent by A: AT2, RT1 presented once, RT2 stored. */
async function spentOnce(b: { session: { getAuthorization(): Promise<unknown> } }) {
  expect(await b.session.getAuthorization()).toEqual({ name: 'Authorization', value: 'Bearer AT2-0123456789' });
  expect(server.presented).toEqual(['RT1-0123456789']);
  expect(server.spentTwice()).toEqual([]);
}

/** A has RT1 out when Redis stops, and its lease runs out before RT2 comes back: what A's call ends with, Redis still down. */
async function cutOffMidRefresh(a: { session: { getAuthorization(): Promise<unknown> } }): Promise<unknown> {
  server.hold();
  const first = a.session.getAuthorization().catch((error: unknown) => error);
  await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']), { timeout: 5_000 });
  await redis.stop();
  await sleep(LOCK_TTL_MS * 2);
  server.release();
  return first;
}

describe('close() waits for the renewal in flight, from the mark on (review 10, finding 1)', () => {
  for (const wrap of [false, true]) {
    it(`Redis up the whole time, the caller gone, the session's store ${wrap ? 'a wrapper of' : ''} the Redis store: close() returns once RT2 is written`, async () => {
      const { a, b } = await twoProcesses(`race:${wrap}`, { wrap });
      server.hold();
      // The caller gives up; the renewal carries on, by design.
      const caller = new AbortController();
      const call = a.session.getAuthorization(caller.signal).catch(() => undefined);
      await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']), { timeout: 5_000 });
      caller.abort(new Error('the caller gave up'));
      await call;
      let closed = false;
      const closing = a.store.close().then(() => (closed = true));
      await sleep(300);
      expect(closed).toBe(false);
      server.release();
      await closing;
      await spentOnce(b);
    });
  }

  it('Redis away meanwhile, behind a wrapper store: close() of the Redis store waits until RT2 is written once Redis is back', async () => {
    const { a, b } = await twoProcesses('outage', { wrap: true });
    const first = await cutOffMidRefresh(a);
    expect(await first).toMatchObject({ code: 'token_store_error' });
    const closing = a.store.close();
    await redis.start();
    await closing;
    for (let attempt = 0; attempt < 100; attempt++) {
      const answer = await b.session.getAuthorization().catch((error: { cause?: { code?: string } }) => error);
      if ((answer as { cause?: { code?: string } }).cause?.code !== 'redis_unavailable') break;
      await sleep(50);
    }
    await spentOnce(b);
  });

  it('the wall clock steps forward while close() waits: it still waits for RT2 (review 10, finding 4)', async () => {
    const { a, b } = await twoProcesses('clock');
    const first = await cutOffMidRefresh(a);
    await first;
    let closed = false;
    const closing = a.store.close().then(() => (closed = true));
    const wall = Date.now;
    vi.spyOn(Date, 'now').mockImplementation(() => wall() + 120_000);
    await sleep(500);
    expect(closed).toBe(false);
    await redis.start();
    await closing;
    vi.restoreAllMocks();
    for (let attempt = 0; attempt < 100; attempt++) {
      const answer = await b.session.getAuthorization().catch((error: { cause?: { code?: string } }) => error);
      if ((answer as { cause?: { code?: string } }).cause?.code !== 'redis_unavailable') break;
      await sleep(50);
    }
    await spentOnce(b);
  });
});

describe('a beat that timed out and landed later (review 10, finding 2)', () => {
  it('Redis stalls with the lease lost: the holder beats on from the version its late beat left, and B waits for RT2', async () => {
    const { a, b } = await twoProcesses('stall', { timeoutMs: 20_000 });
    server.hold();
    const first = a.session.getAuthorization().catch((error: unknown) => error);
    await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']), { timeout: 5_000 });
    // Stalled, not stopped: the connection stays open, the beat sent meanwhile times out and lands on resume.
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      await sleep(4_000);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    const releasing = sleep(6_000).then(() => server.release());
    let answer: unknown;
    for (let attempt = 0; attempt < 100; attempt++) {
      answer = await b.session.getAuthorization().catch((error: unknown) => error);
      if ((answer as { cause?: { code?: string } }).cause?.code !== 'redis_unavailable') break;
      await sleep(50);
    }
    await releasing;
    await first;
    expect(answer).toEqual({ name: 'Authorization', value: 'Bearer AT2-0123456789' });
    expect(server.presented).toEqual(['RT1-0123456789']);
    expect(server.spentTwice()).toEqual([]);
  });
});
