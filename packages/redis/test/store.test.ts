// The Redis store against a real redis-server: the conformance suite, keys,
// encryption at rest, and what a call sees while Redis is down.
import { randomBytes } from 'node:crypto';
import { createAuthenticator, TokenStoreError, type Tokens } from '@portico/auth';
import { describeTokenStore } from '@portico/auth/testing';
import { type DexeroFdEmulator, loadProfile, type RedisServer, rejectionOf, startDexeroFd, startRedis } from '@portico/testing';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisConnection, type RedisTokenStore, RedisUnavailableError, TokenDecryptionError } from '../src/index.js';

let redis: RedisServer;
let fd: DexeroFdEmulator;
beforeAll(async () => {
  [redis, fd] = await Promise.all([startRedis(), startDexeroFd()]);
});
afterAll(async () => {
  await Promise.all([redis?.close(), fd?.close()]);
});

const key32 = () => randomBytes(32).toString('base64');
const tokens = (n: number): Tokens => ({
  accessToken: `at-${n}`,
  tokenType: 'bearer',
  refreshToken: `rt-${n}`,
  expiresAt: Date.now() + 60_000,
  raw: { access_token: `at-${n}` },
});

describeTokenStore(
  'Redis store',
  {
    create: () => createRedisStore({ url: redis.url, lockTtlMs: 300 }),
    peer: () => createRedisStore({ url: redis.url, lockTtlMs: 300 }),
    close: (store) => (store as RedisTokenStore).close(),
    lease: { ms: 300, renewed: true },
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

async function raw(): Promise<
  RedisConnection & {
    hGetAll(key: string): Promise<Record<string, string>>;
    pTTL(key: string): Promise<number>;
    keys(pattern: string): Promise<string[]>;
  }
> {
  const client = createClient({ url: redis.url });
  await client.connect();
  return client as never;
}

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
      expect(JSON.parse(stored.value!)).toMatchObject({ f: 1, k: expect.any(String), iv: expect.any(String), tag: expect.any(String) });
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
    const profile = loadProfile('dexero-fd').profile;
    const auth = createAuthenticator(
      profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, key: 'cc' },
      { baseUrl: fd.apiBaseUrl },
    );
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
    const profile = loadProfile('dexero-fd').profile;
    const input = (store: RedisTokenStore) => ({
      clientId: fd.clientId,
      clientSecret: fd.clientSecret,
      tokenUrl: fd.tokenUrl,
      store,
      key: 'cached',
    });
    try {
      const [x, y] = [
        createAuthenticator(profile, input(a), { baseUrl: fd.apiBaseUrl }),
        createAuthenticator(profile, input(b), { baseUrl: fd.apiBaseUrl }),
      ];
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
