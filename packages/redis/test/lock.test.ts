// The Redis lock against a real redis-server: a caller's signal ends the
// hold, a stalled server fails every command (and the lease) within the
// store's own deadline, and only the owner renews or releases.
import type { Lease } from '@portico/auth';
import { rejectionOf, startRedis } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { createRedisStore, LockLostError, RedisUnavailableError } from '../src/index.js';
import { raw, settles, sharedRedis, tokens, until, watchSockets } from './helpers.js';

const shared = sharedRedis();

const LOCK_TTL_MS = 300;
const store = (options: { commandTimeoutMs?: number; url?: string } = {}) => {
  const s = createRedisStore({ url: shared.redis.url, lockTtlMs: LOCK_TTL_MS, cacheMs: 0, ...options });
  shared.stores.push(s);
  return s;
};
let keys = 0;
const fresh = () => {
  const key = `lock-test:${++keys}`;
  return { key, lockKey: `portico:{${key}}:lock` };
};
const never = () => new Promise<never>(() => undefined);

describe('Redis lock: the caller’s signal bounds the hold', () => {
  it('a holder whose fn never settles: once its signal aborts, the lease ends with that reason, the lock is released, and another instance gets in', async () => {
    const [a, b] = [store(), store()];
    const { key, lockKey } = fresh();
    const controller = new AbortController();
    let lease: Lease | undefined;
    const held = a.lock(
      key,
      (l) => {
        lease = l;
        return never();
      },
      controller.signal,
    );
    await until(() => lease !== undefined);
    // Renewed while held: another instance cannot get in past several lease times.
    expect(await rejectionOf(b.lock(key, async () => 'early', AbortSignal.timeout(LOCK_TTL_MS * 3)))).toMatchObject({
      name: 'TimeoutError',
    });
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    expect(await settles(rejectionOf(held), 2_000)).toBe(reason);
    expect(lease!.signal.aborted).toBe(true);
    expect(lease!.signal.reason).toBe(reason);
    // Released, not left to run out: the key is gone at once, and renewals do not bring it back.
    expect(await shared.client.get(lockKey)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, LOCK_TTL_MS));
    expect(await shared.client.get(lockKey)).toBeNull();
    await expect(
      settles(
        b.lock(key, async () => 'next', AbortSignal.timeout(2_000)),
        3_000,
      ),
    ).resolves.toBe('next');
  });

  it('a signal that aborts while the lock is being taken gives the lock back and rejects with its reason', async () => {
    const a = store();
    const { key, lockKey } = fresh();
    const controller = new AbortController();
    const reason = new Error('gave up at once');
    const taking = a.lock(key, async () => 'ran', controller.signal);
    controller.abort(reason);
    expect(await settles(rejectionOf(taking), 2_000)).toBe(reason);
    expect(await shared.client.get(lockKey)).toBeNull();
  });
});

describe('Redis lock: only the owner renews and releases', () => {
  it('another owner overwrites the lock: the holder’s lease aborts (LockLostError), and it neither extends nor deletes the other owner’s lock', async () => {
    const a = store();
    const { key, lockKey } = fresh();
    const reason = await settles(
      a.lock(key, async (lease) => {
        await shared.client.set(lockKey, 'someone-else', { PX: 60_000 });
        await until(() => lease.signal.aborted, 3_000);
        return lease.signal.reason;
      }),
      5_000,
    );
    expect(reason).toBeInstanceOf(LockLostError);
    expect(reason).toMatchObject({ code: 'lock_lost' });
    expect(await shared.client.get(lockKey)).toBe('someone-else');
    // A renewal without the owner check would have cut it to the holder's lease time.
    expect(await shared.client.pTTL(lockKey)).toBeGreaterThan(30_000);
  });

  it('the lease runs out while the holder works and another instance takes the lock: the first sees its lease abort, and its release leaves the new owner’s lock', async () => {
    const [a, b, c] = [store(), store(), store()];
    const { key, lockKey } = fresh();
    let letBGo!: () => void;
    const bMayGo = new Promise<void>((resolve) => (letBGo = resolve));
    let bInside = false;
    let bHeld: Promise<string> | undefined;
    const aSaw = await settles(
      a.lock(key, async (lease) => {
        // As if the lease ran out during a long pause of this process.
        await shared.client.del(lockKey);
        bHeld = b.lock(key, async () => {
          bInside = true;
          await bMayGo;
          return 'b';
        });
        await until(() => bInside);
        await until(() => lease.signal.aborted, 3_000);
        return lease.signal.reason;
      }),
      5_000,
    );
    expect(aSaw).toBeInstanceOf(LockLostError);
    // a is done and released; b still holds the lock, so nobody else gets in.
    const bOwner = await shared.client.get(lockKey);
    expect(bOwner).not.toBeNull();
    expect(await rejectionOf(c.lock(key, async () => 'c', AbortSignal.timeout(LOCK_TTL_MS * 2)))).toMatchObject({ name: 'TimeoutError' });
    expect(await shared.client.get(lockKey)).toBe(bOwner);
    letBGo();
    await expect(settles(bHeld!, 2_000)).resolves.toBe('b');
    expect(await shared.client.get(lockKey)).toBeNull();
  });
});

describe('Redis stalls (connection open, no answers: SIGSTOP)', () => {
  it('every command fails within commandTimeoutMs with RedisUnavailableError, a held lease ends, and calls go on after SIGCONT', async () => {
    const stalled = await startRedis();
    const s = store({ url: stalled.url, commandTimeoutMs: 200 });
    // A long lease, so only its release (not its expiry) can free the lock it takes.
    const long = createRedisStore({ url: stalled.url, commandTimeoutMs: 200, lockTtlMs: 60_000 });
    try {
      await long.get('warm-up');
      await s.set('stall', tokens(1), 0);
      let lease: Lease | undefined;
      let release!: () => void;
      const held = s.lock('stall', (l) => {
        lease = l;
        return new Promise<void>((resolve) => (release = resolve));
      });
      await until(() => lease !== undefined);
      process.kill(stalled.pid!, 'SIGSTOP');
      try {
        // Writes that name a stale version: Redis runs them once it goes on, and they must change nothing then.
        for (const call of [
          s.get('stall'),
          s.set('stall', tokens(2), 0),
          s.delete('stall', 99),
          long.lock('other', async () => undefined),
        ]) {
          const error = await settles(rejectionOf(call), 3_000);
          expect(error).toBeInstanceOf(RedisUnavailableError);
          expect(error).toMatchObject({ code: 'redis_unavailable' });
        }
        // Its renewals go unanswered: the lease ends when its time is up, not never.
        await until(() => lease!.signal.aborted, 3_000);
        expect(lease!.signal.reason).toBeInstanceOf(RedisUnavailableError);
      } finally {
        process.kill(stalled.pid!, 'SIGCONT');
      }
      release();
      await settles(held, 3_000);
      await until(async () => (await s.get('stall').catch(() => undefined)) !== undefined);
      await expect(s.get('stall')).resolves.toMatchObject({ tokens: { accessToken: 'at-1' }, version: 1 });
      // The lock taken by the SET that timed out was given back behind it.
      const look = await raw(stalled.url);
      await until(async () => (await look.get('portico:{other}:lock')) === null, 2_000);
      await look.close();
    } finally {
      await Promise.all([s.close(), long.close()]);
      await stalled.close();
    }
  });

  it('close() on a stalled Redis settles within commandTimeoutMs and drops the socket, though the commands sent never get answers', async () => {
    const stalled = await startRedis();
    const watch = watchSockets();
    const s = createRedisStore({ url: stalled.url, commandTimeoutMs: 200 });
    try {
      await s.get('warm-up');
      watch.stop();
      expect(watch.sockets).toHaveLength(1);
      process.kill(stalled.pid!, 'SIGSTOP');
      try {
        // Sent, never answered: node-redis's own close() would wait for it forever.
        expect(await settles(rejectionOf(s.get('stall')), 3_000)).toBeInstanceOf(RedisUnavailableError);
        await settles(s.close(), 3_000);
        // Gone while Redis is still stopped: dropped, not closed after an answer.
        expect(watch.sockets.every((socket) => socket.destroyed)).toBe(true);
      } finally {
        process.kill(stalled.pid!, 'SIGCONT');
      }
    } finally {
      watch.stop();
      await s.close();
      await stalled.close();
    }
  });
});
