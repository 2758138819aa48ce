// The Redis store on a real three-node Redis Cluster that the test starts:
// the conformance suite with the store's own cluster connection and with a
// createCluster() client, and one session's keys on one slot.
import { describeTokenStore } from '@portico/auth/testing';
import { rejectionOf } from '@portico/testing';
import { createCluster } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisTokenStore, RedisUnavailableError } from '../src/index.js';
import { CONFORMANCE_LEASE_MS, settles, tokens, until, watchSockets } from './helpers.js';
import { type RedisCluster, startRedisCluster } from './servers.js';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.close();
});

const close = (store: unknown) => (store as RedisTokenStore).close();

describeTokenStore(
  'Redis Cluster (cluster option)',
  {
    create: () => createRedisStore({ cluster: cluster.urls, lockTtlMs: CONFORMANCE_LEASE_MS }),
    peer: () => createRedisStore({ cluster: cluster.urls.slice(1), lockTtlMs: CONFORMANCE_LEASE_MS }),
    close,
    lease: { ms: CONFORMANCE_LEASE_MS, renewed: true },
  },
  { describe, it },
);

// A client of the user's: the store connects it and leaves it open.
const clients: { close(): Promise<void> }[] = [];
const userCluster = () => {
  const client = createCluster({ rootNodes: [{ url: cluster.urls[0]! }] });
  client.on('error', () => undefined);
  clients.push(client);
  return createRedisStore({ client, lockTtlMs: CONFORMANCE_LEASE_MS });
};
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
});

describeTokenStore(
  'Redis Cluster (a createCluster() client)',
  { create: userCluster, peer: userCluster, close, lease: { ms: CONFORMANCE_LEASE_MS, renewed: true } },
  { describe, it },
);

describe('Redis Cluster', () => {
  it('sessions land on different nodes, each session’s keys on one slot, and every store operation works there', async () => {
    const store = createRedisStore({ cluster: cluster.urls, encryptionKey: Buffer.alloc(32, 1).toString('base64') });
    const client = createCluster({ rootNodes: [{ url: cluster.urls[0]! }] });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const slots = new Set<number>();
      for (let user = 0; user < 12; user++) {
        const key = `user:${user}`;
        const version = (await store.set(key, tokens(user), 0))!;
        await store.lock(key, async () => {
          const [tokensSlot, lockSlot] = await Promise.all(
            ['tokens', 'lock'].map(
              (part) => client.sendCommand(undefined, true, ['CLUSTER', 'KEYSLOT', `portico:{${key}}:${part}`]) as Promise<number>,
            ),
          );
          expect(lockSlot).toBe(tokensSlot);
          slots.add(Math.floor(tokensSlot! / (16384 / 3)));
          expect(await store.set(key, tokens(user + 100), version)).toBeGreaterThan(version);
        });
        await expect(store.get(key)).resolves.toMatchObject({ tokens: { accessToken: `at-${user + 100}` } });
        await store.delete(key);
      }
      // Twelve sessions over three nodes' slot ranges: more than one node served them.
      expect(slots.size).toBeGreaterThan(1);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });
});

// Last in this file: it stalls every node, and waits for the cluster to answer again after.
describe('Redis Cluster stalls (SIGSTOP)', () => {
  it('close() settles within commandTimeoutMs and drops every node’s socket, though the commands sent never get answers', async () => {
    const watch = watchSockets();
    const store = createRedisStore({ cluster: cluster.urls, commandTimeoutMs: 200 });
    const pids = cluster.pids();
    try {
      await store.set('stall', tokens(1), 0);
      watch.stop();
      // One connection per node at least (the first one's may be closed already, once it told the others).
      expect(watch.sockets.filter((socket) => !socket.destroyed).length).toBeGreaterThanOrEqual(pids.length);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      try {
        expect(await settles(rejectionOf(store.get('stall')), 3_000)).toBeInstanceOf(RedisUnavailableError);
        await settles(store.close(), 3_000);
        // Gone while every node is still stopped: dropped, not closed after an answer.
        expect(watch.sockets.every((socket) => socket.destroyed)).toBe(true);
      } finally {
        for (const pid of pids) process.kill(pid, 'SIGCONT');
      }
    } finally {
      watch.stop();
      await store.close();
    }
    const after = createRedisStore({ cluster: cluster.urls });
    try {
      await until(async () => (await after.get('stall').catch(() => undefined)) !== undefined, 10_000);
    } finally {
      await after.close();
    }
  });
});
