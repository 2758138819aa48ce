// What the Redis store's tests share: a raw node-redis client to look at (and
// tamper with) what the store wrote, token sets, keys, and bounded waits.
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { Tokens } from '@portico/auth';
import { type RedisServer, startRedis } from '@portico/testing';
import { createClient } from '@redis/client';
import { afterAll, beforeAll } from 'vitest';
import type { RedisTokenStore } from '../src/index.js';

export const key32 = () => randomBytes(32).toString('base64');

export const tokens = (n: number): Tokens => ({
  accessToken: `at-${n}`,
  tokenType: 'bearer',
  refreshToken: `rt-${n}`,
  expiresAt: Date.now() + 60_000,
  raw: { access_token: `at-${n}` },
});

export type RawClient = Awaited<ReturnType<typeof raw>>;

/** A plain client on the same server, outside the store. */
export async function raw(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Settles like `promise`, or rejects once `ms` have passed: a test that would hang fails instead. */
export function settles<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Waits (bounded) until `ok()` holds. */
export async function until(ok: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The TCP sockets this process opens from now until `stop()` (node:net's `net.client.socket` channel): to see that a closed store left none of its own open. */
export function watchSockets(): { sockets: Socket[]; stop(): void } {
  const sockets: Socket[] = [];
  const opened = (message: unknown) => sockets.push((message as { socket: Socket }).socket);
  subscribe('net.client.socket', opened);
  return { sockets, stop: () => unsubscribe('net.client.socket', opened) };
}

/**
 * The lock lease the conformance suite runs with. Renewed every third of it:
 * a lease of a few hundred ms can run out between renewals on a loaded
 * two-core machine, which lets the next holder in, as a lease should, and
 * fails the suite's one-holder check for the wrong reason.
 */
export const CONFORMANCE_LEASE_MS = 1_000;

/** A redis-server and a raw client to it for one file's tests; the stores they put in `stores` are closed after them. */
export function sharedRedis(): { redis: RedisServer; client: RawClient; readonly stores: RedisTokenStore[] } {
  const shared = { stores: [] as RedisTokenStore[] } as { redis: RedisServer; client: RawClient; stores: RedisTokenStore[] };
  beforeAll(async () => {
    shared.redis = await startRedis();
    shared.client = await raw(shared.redis.url);
  });
  afterAll(async () => {
    await Promise.all(shared.stores.map((s) => s.close()));
    await shared.client?.close();
    await shared.redis?.close();
  });
  return shared;
}
