// Issue 25: the store's own telemetry (`createRedisStore({ telemetry })`,
// plain callbacks as `openTelemetry()` gives them): each lock wait is told
// when it starts and when it ends, and every failed command is counted,
// against a real redis-server.
import { rejectionOf } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStoreOptions } from '../src/index.js';
import { sharedRedis, tokens, until } from './helpers.js';

const shared = sharedRedis();

/** What a store told its telemetry. */
function recorder() {
  const told = { waits: [] as { ended: boolean; error?: unknown }[], errors: [] as unknown[] };
  const telemetry = {
    lockWait: () => {
      const wait: { ended: boolean; error?: unknown } = { ended: false };
      told.waits.push(wait);
      return (error?: unknown) => {
        wait.ended = true;
        if (error !== undefined) wait.error = error;
      };
    },
    storeError: (error: unknown) => told.errors.push(error),
  };
  return { told, telemetry };
}

const store = (telemetry: RedisStoreOptions['telemetry'], options: { url?: string; encryptionKey?: string } = {}) => {
  const s = createRedisStore({ url: shared.redis.url, cacheMs: 0, commandTimeoutMs: 500, telemetry, ...options });
  shared.stores.push(s);
  return s;
};
let keys = 0;
const fresh = () => `telemetry-test:${++keys}`;

/** A first lock() on a fresh key, held until `release()`; its wait has ended. */
async function held(s: ReturnType<typeof store>, told: ReturnType<typeof recorder>['told']) {
  const key = fresh();
  let release!: () => void;
  const holding = s.lock(key, () => new Promise<void>((resolve) => (release = resolve)));
  await until(() => told.waits[0]?.ended === true);
  return { key, holding, release: () => release() };
}

describe('lock waits', () => {
  it('each lock() is one wait, ended once the lock is held; a wait behind another holder ends when that one lets go', async () => {
    const { told, telemetry } = recorder();
    const s = store(telemetry);
    const { key, holding, release } = await held(s, told);
    const waiting = s.lock(key, async () => 'second');
    // However long it polls, the second wait lasts while the first holds the lock.
    await until(() => told.waits.length === 2);
    expect(told.waits.map((w) => w.ended)).toEqual([true, false]);
    release();
    await holding;
    expect(await waiting).toBe('second');
    expect(told.waits).toEqual([{ ended: true }, { ended: true }]);
  });

  it('a wait that ends without the lock (the caller’s signal) is ended with its reason', async () => {
    const { told, telemetry } = recorder();
    const s = store(telemetry);
    const { key, holding, release } = await held(s, told);
    const gaveUp = new AbortController();
    const waiting = s.lock(key, async () => 'never', gaveUp.signal);
    gaveUp.abort(new Error('gave up'));
    expect(await rejectionOf(waiting)).toMatchObject({ message: 'gave up' });
    expect(told.waits[1]).toEqual({ ended: true, error: expect.objectContaining({ message: 'gave up' }) });
    release();
    await holding;
  });
});

describe('failed commands', () => {
  it('are counted as the store sees them, with their code: an unreachable Redis, a value no key decrypts', async () => {
    const { told, telemetry } = recorder();
    // Nothing listens there: the connection is refused.
    const down = store(telemetry, { url: 'redis://127.0.0.1:1' });
    expect(await rejectionOf(down.get(fresh()))).toMatchObject({ code: 'redis_unavailable' });
    expect(told.errors).toEqual([expect.objectContaining({ code: 'redis_unavailable' })]);

    const key = fresh();
    await store(recorder().telemetry, { encryptionKey: Buffer.alloc(32, 1).toString('base64') }).set(key, tokens(1), 0);
    const other = recorder();
    const wrongKey = store(other.telemetry, { encryptionKey: Buffer.alloc(32, 2).toString('base64') });
    expect(await rejectionOf(wrongKey.get(key))).toMatchObject({ code: 'token_decryption_failed' });
    expect(other.told.errors).toEqual([expect.objectContaining({ code: 'token_decryption_failed' })]);
  });

  it('a script Redis has not cached yet is no failure: the store sends it whole, and nothing is counted', async () => {
    const { told, telemetry } = recorder();
    const s = store(telemetry);
    await shared.client.sendCommand(['SCRIPT', 'FLUSH']);
    expect(await s.set(fresh(), tokens(2), 0)).toBeGreaterThan(0);
    expect(told.errors).toEqual([]);
  });
});

describe('telemetry that fails (review 11, finding 4)', () => {
  it('is refused when it is no telemetry: the factory itself, or an empty object', () => {
    for (const telemetry of [{}, () => ({}), { lockWait: () => () => {} }])
      expect(() => createRedisStore({ url: shared.redis.url, telemetry: telemetry as never })).toThrow(
        expect.objectContaining({ code: 'configuration_error' }),
      );
  });

  it('a wait’s end that throws leaves no lock taken: fn runs, and the next lock() is held at once', async () => {
    let waits = 0;
    const s = store({
      lockWait: () => {
        waits++;
        return () => {
          throw new Error('telemetry fault');
        };
      },
      storeError: () => {},
    });
    const key = fresh();
    expect(await s.lock(key, async () => 'held')).toBe('held');
    expect(await shared.client.sendCommand(['KEYS', '*:lock'])).toEqual([]);
    // Off after its first fault: the store tells it nothing more, and locks as before.
    expect(await s.lock(key, async () => 'again')).toBe('again');
    expect(waits).toBe(1);
  });

  it('a storeError that throws does not replace the store’s own typed error', async () => {
    const down = store(
      {
        lockWait: () => () => {},
        storeError: () => {
          throw new Error('telemetry fault');
        },
      },
      { url: 'redis://127.0.0.1:1' },
    );
    expect(await rejectionOf(down.get(fresh()))).toMatchObject({ code: 'redis_unavailable' });
    expect(await rejectionOf(down.get(fresh()))).toMatchObject({ code: 'redis_unavailable' });
  });
});
