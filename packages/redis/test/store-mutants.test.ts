// The Redis store's guarantees that its other tests leave unchecked, each
// found by a StrykerJS mutant that survived them: which clients it takes and
// how it calls each kind, which failures are outages, what lifetime a token
// set is stored with, which stored versions are read, when a write gives up,
// how a waiter polls for the lock, and that a finished hold leaves nothing
// running. Against a real redis-server; a client "seen through" is a real
// node-redis client with the store's commands recorded (and held, or
// answered, where a test says so).
import { getEventListeners } from 'node:events';
import type { Lease } from '@portico/auth';
import { ConfigurationError, TokenTimeoutError } from '@portico/auth';
import { sleep } from '@portico/auth/internal';
import { type RedisServer, rejectionOf, startRedis } from '@portico/testing';
import { createClient, createCluster } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, LockLostError, type RedisTokenStore, RedisUnavailableError, TokenDecryptionError } from '../src/index.js';
import { SCRIPTS } from '../src/store.js';
import { type RawClient, raw, settles, tokens, until } from './helpers.js';

// Seen, not changed: the options the store gives node-redis for a connection of its own.
vi.mock('@redis/client', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@redis/client')>();
  return { ...actual, createClient: vi.fn(actual.createClient), createCluster: vi.fn(actual.createCluster) };
});
// Seen, not changed: how long a waiter sleeps between its tries for the lock.
vi.mock('@portico/auth/internal', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@portico/auth/internal')>();
  return { ...actual, sleep: vi.fn(actual.sleep) };
});
// The wait for the lock without a signal of the caller's, cut from 30 s so that a test can see it end.
const DEFAULT_WAIT_MS = 400;
vi.mock('@portico/auth', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@portico/auth')>();
  return { ...actual, DEFAULT_TOKEN_TIMEOUT_MS: 400 };
});

let redis: RedisServer;
let client: RawClient;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  redis = await startRedis();
  client = await raw(redis.url);
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await client?.close();
  await redis?.close();
});

const store = (options: Parameters<typeof createRedisStore>[0] = { url: redis.url }) => {
  const s = createRedisStore(options);
  cleanup.push(() => s.close());
  return s;
};

let keys = 0;
const fresh = (name: string) => {
  const key = `${name}:${++keys}`;
  return { key, tokensKey: `portico:{${key}}:tokens`, lockKey: `portico:{${key}}:lock` };
};

const isScript = (args: readonly string[], script: { sha: string; source: string }) =>
  (args[0] === 'EVALSHA' && args[1] === script.sha) || (args[0] === 'EVAL' && args[1] === script.source);

/**
 * A createClient() client of the user's, with every command the store sends
 * recorded; `before` runs before a command goes out (to hold it, or to change
 * Redis first), and may answer it instead by returning `{ reply }`.
 */
async function seenThrough(before?: (args: string[]) => Promise<{ reply: unknown } | undefined> | undefined) {
  const real = await raw(redis.url);
  cleanup.push(() => real.close());
  const sent: string[][] = [];
  const settled: string[][] = [];
  const connection = {
    get isOpen() {
      return real.isOpen;
    },
    get isReady() {
      return real.isReady;
    },
    connect: () => real.connect(),
    close: () => real.close(),
    async sendCommand(args: string[], options?: { timeout?: number }) {
      sent.push(args);
      try {
        const answer = await before?.(args);
        if (answer !== undefined) throw answer.reply;
        return await real.sendCommand(args, options);
      } finally {
        settled.push(args);
      }
    },
  };
  return { connection: connection as never, sent, settled, real };
}

describe('which clients the store takes, and how it calls each kind', () => {
  const kinds = {
    sendCommand: async () => undefined,
    connect: async () => undefined,
    isReady: true,
    isOpen: true,
  };
  it('refuses, as a ConfigurationError, null, a function dressed as a client, and an object without sendCommand() or connect()', () => {
    const { sendCommand: _s, ...noSend } = kinds;
    const { connect: _c, ...noConnect } = kinds;
    const dressed = Object.assign(() => undefined, kinds);
    for (const client of [null, dressed, noSend, { ...noSend, sendCommand: 'HMGET' }, noConnect]) {
      expect(() => createRedisStore({ client: client as never })).toThrow(ConfigurationError);
    }
    // The node-redis shapes themselves are taken, and the store makes no client of its own beside the one given.
    vi.mocked(createClient).mockClear();
    expect(() => createRedisStore({ client: kinds as never })).not.toThrow();
    expect(vi.mocked(createClient)).not.toHaveBeenCalled();
  });

  it('a Sentinel client is sent every command as a write, so a replica never answers a read of what was just written', async () => {
    const { real } = await seenThrough();
    const calls: { isReadonly: boolean | undefined; args: string[] }[] = [];
    const sentinel = {
      get isOpen() {
        return real.isOpen;
      },
      get isReady() {
        return real.isReady;
      },
      connect: () => real.connect(),
      close: () => real.close(),
      getSentinelNode: () => undefined,
      sendCommand: (isReadonly: boolean | undefined, args: string[], options?: { timeout?: number }) => {
        calls.push({ isReadonly, args });
        return real.sendCommand(args, options);
      },
    };
    const s = store({ client: sentinel as never });
    const { key } = fresh('sentinel');
    const version = (await s.set(key, tokens(1), 0))!;
    await expect(s.get(key)).resolves.toMatchObject({ version });
    await s.lock(key, async () => undefined);
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every((call) => call.isReadonly === false)).toBe(true);
  });

  it('a Cluster client is sent every command as a write, routed by its first key; a single-server client that has a `masters` field is still called as one server', async () => {
    const { real } = await seenThrough();
    const calls: { firstKey: string | undefined; isReadonly: boolean | undefined; args: string[] }[] = [];
    const cluster = {
      get isOpen() {
        return real.isOpen;
      },
      get isReady() {
        return real.isReady;
      },
      connect: () => real.connect(),
      close: () => real.close(),
      masters: [],
      nodeClient: () => undefined,
      sendCommand: (firstKey: string | undefined, isReadonly: boolean | undefined, args: string[], options?: { timeout?: number }) => {
        calls.push({ firstKey, isReadonly, args });
        return real.sendCommand(args, options);
      },
    };
    const s = store({ client: cluster as never });
    const { key, tokensKey, lockKey } = fresh('cluster');
    const version = (await s.set(key, tokens(1), 0))!;
    await expect(s.get(key)).resolves.toMatchObject({ version });
    await s.lock(key, async () => undefined);
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every((call) => call.isReadonly === false)).toBe(true);
    expect(calls.every((call) => call.firstKey === tokensKey || call.firstKey === lockKey)).toBe(true);

    // A wrapper of createClient() with a `masters` list of its own, but no nodeClient(): not a cluster.
    const wrapped = await seenThrough();
    const single = store({ client: Object.assign(wrapped.connection as object, { masters: [] }) as never });
    await expect(single.get(key)).resolves.toMatchObject({ version });
  });

  it('option errors name the option: commandTimeoutMs, lockTtlMs (at least 100), an empty cluster list', () => {
    expect(() => createRedisStore({ url: redis.url, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs must be positive/);
    for (const lockTtlMs of [99, 99.9, Number.NaN]) {
      expect(() => createRedisStore({ url: redis.url, lockTtlMs })).toThrow(ConfigurationError);
      expect(() => createRedisStore({ url: redis.url, lockTtlMs })).toThrow(/lockTtlMs must be at least 100/);
    }
    expect(() => store({ url: redis.url, lockTtlMs: 100 })).not.toThrow();
    expect(() => createRedisStore({ cluster: [] })).toThrow(/cluster is an empty list of node URLs/);
  });

  it('cacheMs is 1 000 unless given, and a given one (0 too) is kept', () => {
    expect(store().cacheMs).toBe(1_000);
    expect(store({ url: redis.url, cacheMs: 250 }).cacheMs).toBe(250);
    expect(store({ url: redis.url, cacheMs: 0 }).cacheMs).toBe(0);
  });

  it('a connection of its own fails fast while offline, connects within commandTimeoutMs, and retries every 50 to 500 ms however long Redis is away', () => {
    const check = (options: { disableOfflineQueue?: boolean; socket?: { connectTimeout?: number; reconnectStrategy?: unknown } }) => {
      expect(options.disableOfflineQueue).toBe(true);
      expect(options.socket?.connectTimeout).toBe(750);
      const strategy = options.socket?.reconnectStrategy as (retries: number) => unknown;
      const delays = Array.from({ length: 40 }, (_, retries) => strategy(retries));
      for (const delay of delays) {
        expect(typeof delay).toBe('number');
        expect(delay).toBeGreaterThanOrEqual(50);
        expect(delay).toBeLessThanOrEqual(500);
      }
    };
    vi.mocked(createClient).mockClear();
    store({ url: redis.url, commandTimeoutMs: 750 });
    expect(vi.mocked(createClient)).toHaveBeenCalledTimes(1);
    check(vi.mocked(createClient).mock.calls[0]![0]!);
    vi.mocked(createCluster).mockClear();
    store({ cluster: [redis.url], commandTimeoutMs: 750 });
    check(vi.mocked(createCluster).mock.calls[0]![0]!.defaults!);
  });
});

describe('what is an outage (RedisUnavailableError) and what is Redis’s own answer', () => {
  it('a reply that is not a "not now" (a key of the wrong type) reaches the caller as Redis gave it', async () => {
    const s = store();
    const { key, tokensKey } = fresh('wrongtype');
    await client.set(tokensKey, 'a string, not a hash');
    const error = await rejectionOf(s.get(key));
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toMatch(/^WRONGTYPE/);
  });

  it('a reply that only mentions a "not now" word is Redis’s answer too (Redis 7.2 names the user: here one called MOVED)', async () => {
    const replyClass = ((await rejectionOf(client.sendCommand(['NOSUCHCOMMAND']))) as Error).constructor as new (message: string) => Error;
    const noperm = new replyClass("NOPERM User MOVED has no permissions to run the 'hmget' command");
    const { connection } = await seenThrough(async () => ({ reply: noperm }));
    const error = await rejectionOf(store({ client: connection }).get('noperm'));
    expect(error).toBe(noperm);
  });

  it('a busy server (a script that runs on) is an outage: RedisUnavailableError caused by the BUSY reply', async () => {
    const s = store();
    await s.get('busy-warm-up');
    const runner = await raw(redis.url);
    const killer = await raw(redis.url);
    await client.configSet('busy-reply-threshold', '50');
    const running = rejectionOf(runner.eval('while true do end', { keys: [], arguments: [] }));
    try {
      await until(async () => {
        const error = await s.get('busy').then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error === undefined) return false;
        if (!(error instanceof RedisUnavailableError)) throw error;
        if (!/BUSY/.test(String((error as Error & { cause?: Error }).cause?.message))) return false;
        expect(error.message).toBe('Redis did not answer');
        return true;
      }, 5_000);
    } finally {
      await killer.sendCommand(['SCRIPT', 'KILL']).catch(() => undefined);
      await settles(running, 5_000);
      await client.configSet('busy-reply-threshold', '5000');
      await Promise.all([runner.close().catch(() => undefined), killer.close()]);
    }
  });

  it('a failed first connection of a client that does not reconnect by itself is an outage, and the next call connects it again', async () => {
    const server = await startRedis();
    cleanup.push(() => server.close());
    await server.stop();
    const once = createClient({ url: server.url, socket: { reconnectStrategy: false } });
    once.on('error', () => undefined);
    const s = store({ client: once as never, commandTimeoutMs: 1_000 });
    const error = await settles(rejectionOf(s.get('refused')), 3_000);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe('Redis did not accept a connection');
    await server.start();
    await expect(settles(s.get('refused'), 3_000)).resolves.toBeUndefined();
    await once.close();
  });

  it('a client of the user’s that is still connecting is not connected again (node-redis would refuse it): the call fails as not connected, and the next one, once it is up, goes through', async () => {
    const mine = createClient({ url: redis.url });
    mine.on('error', () => undefined);
    cleanup.push(() => mine.close());
    const up = mine.connect();
    let connects = 0;
    const counted = Object.assign(Object.create(mine) as object, {
      connect: () => {
        connects++;
        return mine.connect();
      },
    });
    const s = store({ client: counted as never });
    expect(await rejectionOf(s.get('connecting'))).toMatchObject({ name: 'RedisUnavailableError', message: 'Redis is not connected' });
    expect(connects).toBe(0);
    await settles(up, 3_000);
    await expect(s.get('connecting')).resolves.toBeUndefined();
    expect(connects).toBe(0);
  });

  it('once connected, a lost connection fails at once with "Redis is not connected"', async () => {
    const server = await startRedis();
    cleanup.push(() => server.close());
    const s = store({ url: server.url });
    await s.get('warm-up');
    await server.stop();
    // A call made before the client saw the socket close fails as unanswered; the ones after, at once as not connected.
    await until(async () => {
      const error = await settles(rejectionOf(s.get('gone')), 3_000);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      return (error as Error).message === 'Redis is not connected';
    }, 3_000);
  });

  it('a stalled server: errors say what Redis did not do and within how long (a command, a first connection, a lease)', async () => {
    const stalled = await startRedis();
    cleanup.push(() => stalled.close());
    const s = store({ url: stalled.url, commandTimeoutMs: 200, lockTtlMs: 300 });
    const late = store({ url: stalled.url, commandTimeoutMs: 200 });
    await s.get('warm-up');
    let lease: Lease | undefined;
    let finish!: () => void;
    const held = s.lock('stall', (l) => {
      lease = l;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    await until(() => lease !== undefined);
    process.kill(stalled.pid!, 'SIGSTOP');
    try {
      expect(await settles(rejectionOf(s.get('stall')), 3_000)).toMatchObject({ message: 'Redis did not answer within 200 ms' });
      expect(await settles(rejectionOf(late.get('stall')), 3_000)).toMatchObject({
        message: 'Redis did not accept a connection within 200 ms',
      });
      await until(() => lease!.signal.aborted, 3_000);
      expect(lease!.signal.reason).toMatchObject({ message: 'the lock lease ran out: no renewal was answered within 300 ms' });
    } finally {
      process.kill(stalled.pid!, 'SIGCONT');
    }
    finish();
    await settles(held, 3_000);
  });

  it('a closed store refuses every call, though the client it was given is still open', async () => {
    const { connection, real } = await seenThrough();
    for (const s of [createRedisStore({ url: redis.url }), createRedisStore({ client: connection })]) {
      await s.get('before-close');
      await s.close();
      await s.close();
      for (const call of [s.get('closed'), s.set('closed', tokens(1), 0), s.delete('closed'), s.lock('closed', async () => 'ran')]) {
        expect(await rejectionOf(call)).toMatchObject({ name: 'RedisUnavailableError', message: 'the Redis token store is closed' });
      }
    }
    expect(real.isReady).toBe(true);
  });

  it('scripts are sent whole once, then by their SHA1 alone', async () => {
    const server = await startRedis();
    cleanup.push(() => server.close());
    const look = await raw(server.url);
    cleanup.push(() => look.close());
    const s = store({ url: server.url });
    const { key } = fresh('sha');
    let version = 0;
    for (let i = 1; i <= 3; i++) version = (await s.set(key, tokens(i), version))!;
    expect(version).toBe(3);
    const stats = await look.info('commandstats');
    expect(stats).toMatch(/cmdstat_eval:calls=1,/);
    expect(stats).toMatch(/cmdstat_evalsha:calls=3,/);
  });
});

describe('the lifetime a token set is stored with', () => {
  const pttl = async (set: Parameters<RedisTokenStore['set']>[1]) => {
    const s = store();
    const { key, tokensKey } = fresh('lifetime');
    expect(await s.set(key, set, 0)).toBe(1);
    return client.pTTL(tokensKey);
  };
  const withRefresh = (raw: Record<string, unknown>, issuedAt: number | undefined = Date.now()) => ({
    ...tokens(1),
    issuedAt,
    raw,
  });

  it('refresh_expires_in as a numeric string counts; anything else (true, [60], 0 as Keycloak sends for offline tokens, a negative) means no known expiry', async () => {
    const fromString = await pttl(withRefresh({ refresh_expires_in: '3600' }));
    expect(fromString).toBeGreaterThan(3_500_000);
    expect(fromString).toBeLessThanOrEqual(3_600_000);
    for (const seconds of [true, [60], 0, -5, 'soon', null]) {
      expect(await pttl(withRefresh({ refresh_expires_in: seconds })), String(seconds)).toBe(-1);
    }
  });

  it('is counted from when the tokens were issued, or from now when that is unknown', async () => {
    const issuedEarlier = await pttl(withRefresh({ refresh_expires_in: 3600 }, Date.now() - 600_000));
    expect(issuedEarlier).toBeGreaterThan(2_900_000);
    expect(issuedEarlier).toBeLessThanOrEqual(3_000_000);
    const unknown = await pttl(withRefresh({ refresh_token_expires_in: 3600 }, undefined));
    expect(unknown).toBeGreaterThan(3_500_000);
    expect(unknown).toBeLessThanOrEqual(3_600_000);
  });

  it('an access token alone with no expiry, or an expiry that is not a number, is kept without one', async () => {
    const { refreshToken: _, ...access } = tokens(1);
    expect(await pttl({ ...access, expiresAt: undefined })).toBe(-1);
    expect(await pttl({ ...access, expiresAt: Number.NaN })).toBe(-1);
  });

  it('up to 999 999 999 999 999 ms (15 digits, what the script takes) is kept; longer is as good as none', async () => {
    const { refreshToken: _, ...access } = tokens(1);
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      expect(await pttl({ ...access, expiresAt: now + 999_999_999_999_999 })).toBeGreaterThan(999_999_000_000_000);
      expect(await pttl({ ...access, expiresAt: now + 1_000_000_000_000_000 })).toBe(-1);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('the stored version is read back only as a whole number of 1 to 15 digits', () => {
  it('a plaintext value under version 12 or 999 999 999 999 999 reads; under a version that is not such a number, TokenDecryptionError', async () => {
    const s = store();
    const { key, tokensKey } = fresh('versions');
    const value = JSON.stringify({ f: 1, tokens: tokens(5) });
    for (const version of ['12', '999999999999999']) {
      await client.hSet(tokensKey, { version, value });
      await expect(s.get(key)).resolves.toMatchObject({ tokens: { accessToken: 'at-5' }, version: Number(version) });
    }
    for (const version of ['x', '12x', 'x12', '012', '0', '1234567890123456', '1.5', '']) {
      await client.hSet(tokensKey, { version, value });
      const error = await rejectionOf(s.get(key));
      expect(error, version).toBeInstanceOf(TokenDecryptionError);
      expect(error).toMatchObject({ message: 'the stored token value has no valid version' });
    }
  });
});

describe('when a write gives up', () => {
  it('an expected version below 0, or not a safe whole number, is a ConfigurationError, and nothing is sent', async () => {
    const { connection, sent } = await seenThrough();
    const s = store({ client: connection });
    for (const expected of [-1, 2 ** 53]) {
      const error = await rejectionOf(s.set('bad-expected', tokens(1), expected));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ message: 'the expected version must be a whole number, 0 or more' });
    }
    expect(sent).toEqual([]);
  });

  it('a stale expected version is a conflict at once: one script call, not retried', async () => {
    const { connection, sent } = await seenThrough();
    const s = store({ client: connection });
    const { key } = fresh('stale');
    const v1 = (await s.set(key, tokens(1), 0))!;
    await s.set(key, tokens(2), v1);
    sent.length = 0;
    await expect(s.set(key, tokens(3), v1)).resolves.toBeUndefined();
    expect(sent.filter((args) => isScript(args, SCRIPTS.set))).toHaveLength(1);
  });

  it('a write after a delete that is refused a second time (another instance deleted again in between) is a conflict, and writes nothing', async () => {
    const { key, tokensKey } = fresh('tombstone');
    let scriptCalls: number | undefined;
    const { connection } = await seenThrough(async (args) => {
      // Between this write's first and second try, another instance writes and deletes: the tombstone moves on.
      if (scriptCalls !== undefined && isScript(args, SCRIPTS.set) && ++scriptCalls === 2) await client.hIncrBy(tokensKey, 'version', 1);
      return undefined;
    });
    const s = store({ client: connection });
    await s.set(key, tokens(1), 0);
    await s.delete(key);
    scriptCalls = 0;
    await expect(s.set(key, tokens(2), 0)).resolves.toBeUndefined();
    expect(scriptCalls).toBe(2);
    expect(await client.hGetAll(tokensKey)).toEqual({ version: '2' });
  });
});

/** `store` holding the lock on `key` until `letGo` is called: `held` settles after. */
async function holding(store: RedisTokenStore, key: string) {
  let letGo!: () => void;
  let inside = false;
  const held = store.lock(key, () => {
    inside = true;
    return new Promise<void>((resolve) => (letGo = resolve));
  });
  await until(() => inside);
  return { held, letGo };
}

describe('waiting for the lock', () => {
  it('an already aborted signal rejects with its reason before Redis is asked (even a closed store’s)', async () => {
    const s = createRedisStore({ url: redis.url });
    await s.close();
    const reason = new Error('given up before asking');
    expect(await rejectionOf(s.lock('pre-aborted', async () => 'ran', AbortSignal.abort(reason)))).toBe(reason);
  });

  it('a wait that ends while the SET that takes the lock is in flight: fn never runs, the lock is given back, and the call rejects with why the wait ended', async () => {
    const controller = new AbortController();
    const reason = new Error('gave up while the lock was being taken');
    let slow = false;
    const { connection } = await seenThrough(async (args) => {
      if (args[0] !== 'SET') return undefined;
      // The caller's signal aborts, or (without one) the default wait runs out, before Redis answers the SET.
      if (slow) await new Promise((resolve) => setTimeout(resolve, DEFAULT_WAIT_MS + 100));
      else controller.abort(reason);
      return undefined;
    });
    const s = store({ client: connection });
    const { key, lockKey } = fresh('aborted-while-taking');
    let ran = false;
    const fn = async () => {
      ran = true;
      return 'ran';
    };
    expect(await settles(rejectionOf(s.lock(key, fn, controller.signal)), 3_000)).toBe(reason);
    expect(await client.get(lockKey)).toBeNull();
    slow = true;
    expect(await settles(rejectionOf(s.lock(key, fn)), DEFAULT_WAIT_MS + 3_000)).toBeInstanceOf(TokenTimeoutError);
    expect(await client.get(lockKey)).toBeNull();
    expect(ran).toBe(false);
  });

  it('without a signal, the wait ends with TokenTimeoutError', async () => {
    const [a, b] = [store(), store()];
    const { key } = fresh('default-wait');
    const { held, letGo } = await holding(a, key);
    try {
      const error = await settles(rejectionOf(b.lock(key, async () => 'ran')), DEFAULT_WAIT_MS + 3_000);
      expect(error).toBeInstanceOf(TokenTimeoutError);
      expect(error).toMatchObject({ message: `the wait for the token store lock did not finish within ${DEFAULT_WAIT_MS} ms` });
    } finally {
      letGo();
      await held;
    }
  });

  it('a waiter polls with jitter, backing off from a few ms to 25–75 ms between tries: it neither hammers Redis nor sleeps past a release', async () => {
    const [a, b] = [store(), store()];
    const { key } = fresh('backoff');
    const { held, letGo } = await holding(a, key);
    const naps = vi.mocked(sleep);
    naps.mockClear();
    // Jitter fixed low (×0.6) so that the bounds are met by one run, not by chance.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.1);
    let waited: Promise<string> | undefined;
    try {
      waited = b.lock(key, async () => 'b', AbortSignal.timeout(10_000));
      await until(() => naps.mock.calls.length >= 8, 5_000);
    } finally {
      random.mockRestore();
      letGo();
      await held;
    }
    await expect(settles(waited!, 3_000)).resolves.toBe('b');
    const delays = naps.mock.calls.map(([ms]) => ms);
    expect(delays[0]).toBeGreaterThan(0);
    expect(delays[0]).toBeLessThanOrEqual(7.5);
    for (const ms of delays) expect(ms).toBeLessThanOrEqual(75);
    for (const ms of delays.slice(4)) expect(ms).toBeGreaterThanOrEqual(25);
  });
});

describe('a hold that ended leaves nothing behind', () => {
  // Renewed every 200 ms: long enough that a loaded machine does not let it run out mid-test.
  const LEASE_MS = 600;

  it('no renewal goes out after it, its lease is never aborted after it, and the caller’s long-lived signal keeps no listener of it', async () => {
    const { connection, sent } = await seenThrough();
    const s = store({ client: connection, lockTtlMs: LEASE_MS });
    const { key } = fresh('after-hold');
    const app = new AbortController();
    const renewals = () => sent.filter((args) => isScript(args, SCRIPTS.renew)).length;
    const leases: Lease[] = [];
    for (let i = 0; i < 3; i++) {
      await s.lock(
        key,
        async (lease) => {
          leases.push(lease);
          const before = renewals();
          await until(() => renewals() > before, 3_000);
        },
        app.signal,
      );
    }
    expect(getEventListeners(app.signal, 'abort')).toHaveLength(0);
    const after = renewals();
    // Longer than a lease and several renewal periods: a timer left running would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
    expect(renewals()).toBe(after);
    app.abort(new Error('the app shuts down'));
    for (const lease of leases) expect(lease.signal.aborted).toBe(false);
  });

  it('a renewal answered only after the hold ended does not abort the finished lease', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let held = false;
    const { connection, settled } = await seenThrough(async (args) => {
      if (isScript(args, SCRIPTS.renew) && !held) {
        held = true;
        await gate;
      }
      return undefined;
    });
    const s = store({ client: connection, lockTtlMs: LEASE_MS });
    const { key, lockKey } = fresh('late-renewal');
    let lease: Lease | undefined;
    await s.lock(key, async (l) => {
      lease = l;
      await until(() => held, 3_000);
    });
    expect(await client.get(lockKey)).toBeNull();
    openGate();
    await until(() => settled.some((args) => isScript(args, SCRIPTS.renew)), 3_000);
    // The renewal's answer is handled on a later turn than the command's own settling.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lease!.signal.aborted).toBe(false);
  });

  it('a lock another owner took is lost with a LockLostError that says so', async () => {
    const s = store({ url: redis.url, lockTtlMs: LEASE_MS });
    const { key, lockKey } = fresh('lost');
    const reason = await settles(
      s.lock(key, async (lease) => {
        await client.set(lockKey, 'someone-else', { PX: 60_000 });
        await until(() => lease.signal.aborted, 3_000);
        return lease.signal.reason;
      }),
      5_000,
    );
    expect(reason).toBeInstanceOf(LockLostError);
    expect(reason).toMatchObject({ message: 'the lock lease ran out and another owner took the lock' });
  });
});
