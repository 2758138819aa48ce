// The Redis store against a real redis-server: the conformance suite, keys,
// encryption at rest, and what a call sees while Redis is down.
import { createCipheriv, createHash } from 'node:crypto';
import { ConfigurationError, createAuthenticator, TokenStoreError } from '@portico/auth';
import { describeTokenStore } from '@portico/auth/testing';
import { type DexeroFdEmulator, loadProfile, type RedisServer, rejectionOf, startDexeroFd, startRedis } from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisTokenStore, RedisUnavailableError, TokenDecryptionError } from '../src/index.js';
import { SCRIPTS } from '../src/store.js';
import { CONFORMANCE_LEASE_MS, key32, type RawClient, raw as rawOn, tokens } from './helpers.js';

let redis: RedisServer;
let fd: DexeroFdEmulator;
beforeAll(async () => {
  [redis, fd] = await Promise.all([startRedis(), startDexeroFd()]);
});
afterAll(async () => {
  await Promise.all([redis?.close(), fd?.close()]);
});

describeTokenStore(
  'Redis store',
  {
    create: () => createRedisStore({ url: redis.url, lockTtlMs: CONFORMANCE_LEASE_MS }),
    peer: () => createRedisStore({ url: redis.url, lockTtlMs: CONFORMANCE_LEASE_MS }),
    close: (store) => (store as RedisTokenStore).close(),
    lease: { ms: CONFORMANCE_LEASE_MS, renewed: true },
  },
  { describe, it },
);

const ENCRYPTION_KEY = key32();
describeTokenStore(
  'Redis store, encrypted (the peer also holds a retired key)',
  {
    create: () => createRedisStore({ url: redis.url, encryptionKey: ENCRYPTION_KEY }),
    peer: () => createRedisStore({ url: redis.url, encryptionKey: [ENCRYPTION_KEY, key32()] }),
    close: (store) => (store as RedisTokenStore).close(),
  },
  { describe, it },
);

const raw = () => rawOn(redis.url);

/** A client-credentials authenticator against the Dexero FD emulator, keeping its tokens in `store` under `key`. */
const fdAuth = (store: RedisTokenStore, key: string) =>
  createAuthenticator(
    loadProfile('dexero-fd').profile,
    { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, key },
    { baseUrl: fd.apiBaseUrl },
  );

describe('Redis store', () => {
  it('keys of one session share a hash tag; values carry a format version and expire with the refresh token', async () => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'test:' });
    const client = await raw();
    try {
      await store.set('user:{42}', { ...tokens(1), issuedAt: Date.now(), raw: { refresh_expires_in: 3600 } }, 0);
      await store.lock('user:{42}', async () => {
        const keys = (await client.keys('test:*')).sort();
        expect(keys).toEqual(['test:{user:%7B42%7D}:lock', 'test:{user:%7B42%7D}:tokens']);
      });
      const hash = await client.hGetAll('test:{user:%7B42%7D}:tokens');
      expect(JSON.parse(hash.value!)).toMatchObject({ f: 1, tokens: { accessToken: 'at-1' } });
      const ttl = await client.pTTL('test:{user:%7B42%7D}:tokens');
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('encrypts at rest with AES-256-GCM: no token in Redis, a key id, rotation by list, a typed error for the wrong key or an altered value', async () => {
    const [oldKey, newKey] = [key32(), key32()];
    const before = createRedisStore({ url: redis.url, encryptionKey: oldKey });
    const after = createRedisStore({ url: redis.url, encryptionKey: [newKey, oldKey] });
    const stranger = createRedisStore({ url: redis.url, encryptionKey: key32() });
    const plain = createRedisStore({ url: redis.url });
    const client = await raw();
    try {
      const v1 = (await before.set('enc', tokens(7), 0))!;
      const stored = await client.hGetAll('portico:{enc}:tokens');
      expect(stored.value).not.toContain('at-7');
      expect(stored.value).not.toContain('rt-7');
      expect(JSON.parse(stored.value!)).toMatchObject({ f: 2, k: expect.any(String), iv: expect.any(String), tag: expect.any(String) });
      await expect(after.get('enc')).resolves.toMatchObject({ tokens: { accessToken: 'at-7' }, version: v1 });
      await after.set('enc', tokens(8), v1);
      // Written with the new key now: the old-key-only store cannot read it, with a typed error.
      expect(await rejectionOf(before.get('enc'))).toBeInstanceOf(TokenDecryptionError);
      expect(await rejectionOf(stranger.get('enc'))).toMatchObject({ code: 'token_decryption_failed' });
      expect(await rejectionOf(plain.get('enc'))).toBeInstanceOf(TokenDecryptionError);
      const sealed = JSON.parse((await client.hGetAll('portico:{enc}:tokens')).value!);
      sealed.data = Buffer.from('x'.repeat(40)).toString('base64');
      await client.sendCommand(['HSET', 'portico:{enc}:tokens', 'value', JSON.stringify(sealed)]);
      expect(await rejectionOf(after.get('enc'))).toBeInstanceOf(TokenDecryptionError);
      // Plaintext planted where encryption is on is refused too.
      await plain.set('planted', tokens(9), 0);
      expect(await rejectionOf(after.get('planted'))).toBeInstanceOf(TokenDecryptionError);
      expect(() => createRedisStore({ url: redis.url, encryptionKey: 'c2hvcnQ=' })).toThrow(/base64 of 32 random bytes/);
    } finally {
      await Promise.all([before.close(), after.close(), stranger.close(), plain.close(), client.close()]);
    }
  });

  it('Redis down: calls fail fast with a typed error, no token request goes out, nothing is deleted; calls go on once Redis is back', async () => {
    // No in-process cache, so the very next call meets the outage.
    const store = createRedisStore({ url: redis.url, cacheMs: 0 });
    const auth = fdAuth(store, 'cc');
    try {
      const first = await auth.getAuthorization();
      const requests = fd.count('POST /oauth/token.action');
      await redis.stop();
      const started = Date.now();
      const error = await rejectionOf(auth.getAuthorization());
      expect(error).toBeInstanceOf(TokenStoreError);
      expect((error as Error).cause).toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await rejectionOf(auth.handleUnauthorized(first.value))).toBeInstanceOf(TokenStoreError);
      expect(fd.count('POST /oauth/token.action')).toBe(requests);
      await redis.start();
      // The client reconnects by itself (bounded backoff); the stored token is still there.
      let header: { value: string } | undefined;
      for (let i = 0; i < 100 && header === undefined; i++) {
        header = await auth.getAuthorization().catch(() => new Promise<undefined>((r) => setTimeout(r, 50)));
      }
      expect(header?.value).toBe(first.value);
      expect(fd.count('POST /oauth/token.action')).toBe(requests);
    } finally {
      await store.close();
    }
  });

  it('the in-process cache: headers reuse what was read for cacheMs; a 401 and a renewal read Redis', async () => {
    const [a, b] = [createRedisStore({ url: redis.url, cacheMs: 60_000 }), createRedisStore({ url: redis.url, cacheMs: 60_000 })];
    try {
      const [x, y] = [fdAuth(a, 'cached'), fdAuth(b, 'cached')];
      const first = await x.getAuthorization();
      await expect(y.getAuthorization()).resolves.toEqual(first);
      // y renews after a 401; x still sends its cached token, and after its own 401 replays with y's without a token request.
      await y.handleUnauthorized(first.value);
      const renewed = await y.getAuthorization();
      expect(renewed).not.toEqual(first);
      await expect(x.getAuthorization()).resolves.toEqual(first);
      const requests = fd.count('POST /oauth/token.action');
      await expect(x.handleUnauthorized(first.value)).resolves.toBe(true);
      await expect(x.getAuthorization()).resolves.toEqual(renewed);
      expect(fd.count('POST /oauth/token.action')).toBe(requests);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('takes an existing node-redis client and leaves it open on close()', async () => {
    const client = await raw();
    const store = createRedisStore({ client });
    await store.set('shared-client', tokens(3), 0);
    await store.close();
    expect(client.isReady).toBe(true);
    await client.close();
  });
});

describe('Redis store: lifetimes', () => {
  it('a fractional expires_in or refresh_expires_in is written whole: the new version and its lifetime, never half of it', async () => {
    const store = createRedisStore({ url: redis.url });
    const client = await raw();
    try {
      const now = Date.now();
      const v1 = (await store.set('fraction', { ...tokens(1), issuedAt: now, raw: { refresh_expires_in: 60 } }, 0))!;
      const rotated = { ...tokens(2), issuedAt: now, expiresAt: now + 1_500.5, raw: { expires_in: 1.5005, refresh_expires_in: 3600.5 } };
      const v2 = await store.set('fraction', rotated, v1);
      expect(v2).toBeGreaterThan(v1);
      await expect(store.get('fraction')).resolves.toMatchObject({ tokens: { accessToken: 'at-2' }, version: v2 });
      const ttl = await client.pTTL('portico:{fraction}:tokens');
      expect(ttl).toBeGreaterThan(3_590_000);
      expect(ttl).toBeLessThanOrEqual(3_600_500);
      // Only an access token, with a fractional lifetime left: expires with it.
      const v3 = await store.set('fraction', { accessToken: 'at-3', tokenType: 'bearer', expiresAt: Date.now() + 90_000.25, raw: {} }, v2!);
      expect(v3).toBeGreaterThan(v2!);
      expect(await client.pTTL('portico:{fraction}:tokens')).toBeGreaterThan(80_000);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('the compare-and-set script checks every argument before it writes: a bad lifetime or version changes nothing', async () => {
    const store = createRedisStore({ url: redis.url });
    const client = await raw();
    try {
      const v1 = (await store.set('script-args', { ...tokens(1), issuedAt: Date.now(), raw: { refresh_expires_in: 60 } }, 0))!;
      const before = await client.hGetAll('portico:{script-args}:tokens');
      const next = String(v1 + 1);
      for (const [expected, ttl, sealedFor] of [
        [String(v1), '1.5', next],
        [String(v1), '-5', next],
        [String(v1), '1e+23', next],
        [String(v1), '', next],
        [`${v1}.0`, '1000', next],
        ['', '1000', next],
        [String(v1), '1000', `${next}.0`],
        [String(v1), '1000', ''],
      ] as const) {
        const error = await rejectionOf(
          client.eval(SCRIPTS.set.source, { keys: ['portico:{script-args}:tokens'], arguments: [expected, 'x', ttl, sealedFor] }),
        );
        expect(String(error)).toMatch(/bad arguments/);
        expect(await client.hGetAll('portico:{script-args}:tokens')).toEqual(before);
        expect(await client.pTTL('portico:{script-args}:tokens')).toBeLessThanOrEqual(60_000);
      }
      expect(await rejectionOf(store.set('script-args', tokens(2), 1.5))).toBeInstanceOf(ConfigurationError);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });
});

describe('Redis store: what is stored is checked when read back', () => {
  const KEY = key32();
  const keyId = createHash('sha256').update(Buffer.from(KEY, 'base64')).digest('hex').slice(0, 12);
  // Sealed as the store seals, with the IV and tag sizes and the contents chosen by the test: format 2
  // (bound to the key and `version`), or without a version format 1, as the previous release sealed.
  function seal(
    storageKey: string,
    { iv: ivBytes = 12, tag: tagBytes = 16, version = undefined as number | undefined, body = tokens(5) as unknown } = {},
  ): string {
    const iv = Buffer.alloc(ivBytes, 7);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(KEY, 'base64'), iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(version === undefined ? storageKey : JSON.stringify([storageKey, version])));
    const data = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag().subarray(0, tagBytes);
    const f = version === undefined ? 1 : 2;
    return JSON.stringify({ f, k: keyId, iv: iv.toString('base64'), tag: tag.toString('base64'), data: data.toString('base64') });
  }

  /** `planted` in Redis: every call fails with TokenStoreError caused by TokenDecryptionError, no token request goes out, and the value stays as it is. */
  async function refused(auth: ReturnType<typeof fdAuth>, client: RawClient, storageKey: string, planted: Record<string, string>) {
    const requests = fd.count('POST /oauth/token.action');
    const error = await rejectionOf(auth.getAuthorization());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).cause).toBeInstanceOf(TokenDecryptionError);
    expect(await rejectionOf(auth.handleUnauthorized('Bearer whatever'))).toBeInstanceOf(TokenStoreError);
    expect(await client.hGetAll(storageKey)).toEqual(planted);
    expect(fd.count('POST /oauth/token.action')).toBe(requests);
  }

  it('AES-GCM needs a 16-byte tag and a 12-byte IV: a tag cut short or another IV size is a TokenDecryptionError; a value of the previous release (format 1) still reads', async () => {
    const store = createRedisStore({ url: redis.url, encryptionKey: KEY });
    const client = await raw();
    try {
      const storageKey = 'portico:{gcm}:tokens';
      await client.hSet(storageKey, { version: '1', value: seal(storageKey, { version: 1 }) });
      await expect(store.get('gcm')).resolves.toMatchObject({ tokens: { accessToken: 'at-5' }, version: 1 });
      // Sealed by the previous release, bound to the key only: read, so that upgrading loses no grant.
      await client.hSet(storageKey, { version: '1', value: seal(storageKey) });
      await expect(store.get('gcm')).resolves.toMatchObject({ tokens: { accessToken: 'at-5' }, version: 1 });
      for (const [iv, tag] of [
        [12, 4],
        [12, 12],
        [16, 16],
        [8, 16],
      ] as const) {
        await client.hSet(storageKey, { version: '1', value: seal(storageKey, { iv, tag, version: 1 }) });
        const error = await rejectionOf(store.get('gcm'));
        expect(error, `IV ${iv} bytes, tag ${tag} bytes`).toBeInstanceOf(TokenDecryptionError);
        expect(error).toMatchObject({ code: 'token_decryption_failed' });
      }
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('a sealed value copied under another session’s key does not open there (bound to its Redis key)', async () => {
    const store = createRedisStore({ url: redis.url, encryptionKey: KEY });
    const client = await raw();
    try {
      await store.set('alice', tokens(1), 0);
      await store.set('mallory', tokens(2), 0);
      const alice = await client.hGet('portico:{alice}:tokens', 'value');
      await client.hSet('portico:{mallory}:tokens', 'value', alice!);
      expect(await rejectionOf(store.get('mallory'))).toBeInstanceOf(TokenDecryptionError);
      await expect(store.get('alice')).resolves.toMatchObject({ tokens: { accessToken: 'at-1' } });
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('an older sealed value put back under a newer version does not open (bound to its version): the caller sees TokenStoreError, never the spent refresh token', async () => {
    const store = createRedisStore({ url: redis.url, encryptionKey: KEY, cacheMs: 0 });
    const client = await raw();
    const auth = fdAuth(store, 'rollback');
    try {
      const storageKey = 'portico:{rollback}:tokens';
      const v1 = (await store.set('rollback', tokens(1), 0))!;
      const first = (await client.hGet(storageKey, 'value'))!;
      const v2 = (await store.set('rollback', tokens(2), v1))!;
      const second = (await client.hGet(storageKey, 'value'))!;
      // Whoever can write Redis, without the key, puts version 1's value back and leaves version 2.
      await client.hSet(storageKey, 'value', first);
      expect(await rejectionOf(store.get('rollback'))).toMatchObject({ name: 'TokenDecryptionError', code: 'token_decryption_failed' });
      await refused(auth, client, storageKey, { version: String(v2), value: first });
      // Relabelled as the previous release's format, bound to the key only: it does not open either.
      await client.hSet(storageKey, 'value', JSON.stringify({ ...JSON.parse(second), f: 1 }));
      expect(await rejectionOf(store.get('rollback'))).toBeInstanceOf(TokenDecryptionError);
      // After a delete, the first write is sealed for the version after the one left behind, and a value from before is refused there too.
      await store.delete('rollback');
      const v3 = (await store.set('rollback', tokens(3), 0))!;
      expect(v3).toBe(v2 + 1);
      await expect(store.get('rollback')).resolves.toMatchObject({ tokens: { accessToken: 'at-3', refreshToken: 'rt-3' }, version: v3 });
      await client.hSet(storageKey, 'value', second);
      expect(await rejectionOf(store.get('rollback'))).toBeInstanceOf(TokenDecryptionError);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('garbage in Redis is a TokenStoreError caused by TokenDecryptionError for the caller, and is never overwritten, deleted or refreshed over', async () => {
    const store = createRedisStore({ url: redis.url, encryptionKey: KEY, cacheMs: 0 });
    const client = await raw();
    const auth = fdAuth(store, 'garbage');
    try {
      const storageKey = 'portico:{garbage}:tokens';
      const requests = fd.count('POST /oauth/token.action');
      for (const planted of [
        { version: '3', value: seal(storageKey, { tag: 4, version: 3 }) },
        { version: '3', value: 'not json' },
        { version: '3', value: JSON.stringify({ f: 1, tokens: { accessToken: 'planted' } }) },
        { version: '3', value: JSON.stringify({ f: 3 }) },
        { version: 'x', value: seal(storageKey, { version: 3 }) },
        // Sealed with the right key, but fields the token lifecycle cannot use.
        { version: '3', value: seal(storageKey, { version: 3, body: { ...tokens(5), scope: 5 } }) },
        { version: '3', value: seal(storageKey, { version: 3, body: { ...tokens(5), tokenType: 7 } }) },
      ]) {
        await client.hSet(storageKey, planted);
        await refused(auth, client, storageKey, planted);
      }
      // A plaintext store reads garbage the same way.
      const plain = createRedisStore({ url: redis.url });
      for (const garbage of [
        5,
        { accessToken: 'abc', tokenType: 'Bearer', scope: 5 },
        { accessToken: 'abc', tokenType: 'Bearer', raw: [] },
      ]) {
        await client.hSet('portico:{plain-garbage}:tokens', { version: '1', value: JSON.stringify({ f: 1, tokens: garbage }) });
        expect(await rejectionOf(plain.get('plain-garbage'))).toMatchObject({
          name: 'TokenDecryptionError',
          code: 'token_decryption_failed',
        });
      }
      await plain.close();
      expect(fd.count('POST /oauth/token.action')).toBe(requests);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });
});

describe('Redis store: rotating the encryption key in three rollouts', () => {
  it('[old] and [old, new] interoperate (rollout 1); [old, new] and [new, old] interoperate (rollout 2); [new] reads what [new, old] wrote (rollout 3)', async () => {
    const [oldKey, newKey] = [key32(), key32()];
    const make = (encryptionKey: string[]) => createRedisStore({ url: redis.url, encryptionKey });
    const [before, step1, step2, step3] = [make([oldKey]), make([oldKey, newKey]), make([newKey, oldKey]), make([newKey])];
    const client = await raw();
    try {
      // Rollout 1: the new key decrypts only; instances not yet restarted read everything written.
      let v = (await step1.set('rotate', tokens(1), 0))!;
      await expect(before.get('rotate')).resolves.toMatchObject({ tokens: { accessToken: 'at-1' } });
      v = (await before.set('rotate', tokens(2), v))!;
      await expect(step1.get('rotate')).resolves.toMatchObject({ tokens: { accessToken: 'at-2' } });
      // Rollout 2: the new key encrypts; every instance of rollout 1 already decrypts it.
      v = (await step2.set('rotate', tokens(3), v))!;
      await expect(step1.get('rotate')).resolves.toMatchObject({ tokens: { accessToken: 'at-3' } });
      // ...which is why rollout 1 must be finished first: an instance still on [old] cannot.
      expect(await rejectionOf(before.get('rotate'))).toBeInstanceOf(TokenDecryptionError);
      v = (await step1.set('rotate', tokens(4), v))!;
      await expect(step2.get('rotate')).resolves.toMatchObject({ tokens: { accessToken: 'at-4' } });
      // Rollout 3: drop the old key once no value sealed with it is left.
      v = (await step2.set('rotate', tokens(5), v))!;
      await expect(step3.get('rotate')).resolves.toMatchObject({ tokens: { accessToken: 'at-5' } });
      await before.set('left-behind', tokens(6), 0);
      expect(await rejectionOf(step3.get('left-behind'))).toBeInstanceOf(TokenDecryptionError);
    } finally {
      await Promise.all([before.close(), step1.close(), step2.close(), step3.close(), client.close()]);
    }
  });
});

describe('Redis store: which clients it takes', () => {
  it('one of url, cluster or client; a client object that is not node-redis’s is a ConfigurationError', () => {
    expect(() => createRedisStore({})).toThrow(ConfigurationError);
    expect(() => createRedisStore({ url: redis.url, cluster: [redis.url] })).toThrow(/one of url, cluster or client/);
    expect(() => createRedisStore({ cluster: [] })).toThrow(ConfigurationError);
    // ioredis-like: sendCommand takes a Command object, and there is no isReady.
    const ioredisLike = { status: 'ready', connect: async () => undefined, sendCommand: async () => undefined, quit: async () => 'OK' };
    expect(() => createRedisStore({ client: ioredisLike as never })).toThrow(ConfigurationError);
    expect(() => createRedisStore({ client: {} as never })).toThrow(/createClient\(\), createCluster\(\) or createSentinel\(\)/);
    expect(() => createRedisStore({ url: redis.url, commandTimeoutMs: 0 })).toThrow(ConfigurationError);
  });
});
