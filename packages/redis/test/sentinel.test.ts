// The Redis store through Redis Sentinel (a createSentinel() client): a real
// redis-server and a Sentinel watching it, both on 127.0.0.1.
import { describeTokenStore } from '@portico/auth/testing';
import { type RedisServer, startRedis } from '@portico/testing';
import { createSentinel } from '@redis/client';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRedisStore, type RedisTokenStore } from '../src/index.js';
import { CONFORMANCE_LEASE_MS } from './helpers.js';
import { type RedisSentinel, startSentinel } from './servers.js';

let master: RedisServer;
let sentinel: RedisSentinel;
const clients: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  master = await startRedis();
  sentinel = await startSentinel(master.port);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await sentinel?.close();
  await master?.close();
});

const store = () => {
  const client = createSentinel({ name: sentinel.name, sentinelRootNodes: [{ host: '127.0.0.1', port: sentinel.port }] });
  client.on('error', () => undefined);
  clients.push(client);
  return createRedisStore({ client, lockTtlMs: CONFORMANCE_LEASE_MS });
};

describeTokenStore(
  'Redis Sentinel (a createSentinel() client)',
  { create: store, peer: store, close: (s) => (s as RedisTokenStore).close(), lease: { ms: CONFORMANCE_LEASE_MS, renewed: true } },
  { describe, it },
);
