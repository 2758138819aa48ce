// SECURITY.md T28 on real Redis, one server and a three-node Cluster: the
// soak's "Redis is stopped and restarted" as one deterministic sequence. One
// process (A) holds the lock and has RT1 out at the token endpoint when Redis
// stops; its lease runs out, its write of RT2 fails, and when Redis is back
// (append-only data: the tokens survive, the lock has expired) the other
// process (B) takes the lock first. Before spending marks, B read RT1 and
// spent it again, and the provider revoked the grant. Now B finds A's mark
// and waits, and A writes RT2 on its own once Redis answers it.
import { createOAuthFlow, type Session } from '@portico/auth';
import {
  expiredRotatingTokens,
  loadProfile,
  type RedisServer,
  type RotatingTokenServer,
  rejectionOf,
  rotatingFlowOptions,
  startRedis,
  startRotatingTokenServer,
} from '@portico/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, type RedisStoreOptions, type RedisTokenStore } from '../src/index.js';
import { type RedisCluster, startRedisCluster } from './servers.js';

const LOCK_TTL_MS = 500;

let redis: RedisServer;
let cluster: RedisCluster;
let server: RotatingTokenServer;
const stores: RedisTokenStore[] = [];
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all([redis?.close(), cluster?.close()]);
});
afterEach(async () => {
  await Promise.all([...stores.splice(0).map((store) => store.close()), server?.close()]);
});

interface Topology {
  options: () => Pick<RedisStoreOptions, 'url' | 'cluster'>;
  stop(): Promise<void>;
  start(): Promise<unknown>;
}

const topologies: [string, Topology][] = [
  ['one Redis', { options: () => ({ url: redis.url }), stop: () => redis.stop(), start: () => redis.start() }],
  ['a three-node Redis Cluster', { options: () => ({ cluster: cluster.urls }), stop: () => cluster.stop(), start: () => cluster.start() }],
];

/** The call, again while it fails with redis_unavailable (the client reconnects on its own schedule): bounded. */
async function onceAnswered<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      if (cause?.code !== 'redis_unavailable' || attempt >= 200) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(topologies)('%s stops while the lock holder has RT1 out', (name, topology) => {
  /** A (the lock holder) has RT1 out when Redis stops; once its lease has run out, RT2 comes back and A's write of it fails. */
  async function holderCutOff(test: string) {
    server = await startRotatingTokenServer();
    const flow = createOAuthFlow(loadProfile('finexer').profile, rotatingFlowOptions(server, 10_000));
    const key = `restart:${name}:${test}`;
    const session = () => {
      const store = createRedisStore({ ...topology.options(), lockTtlMs: LOCK_TTL_MS });
      stores.push(store);
      return { store, session: flow.session(expiredRotatingTokens(), { store, key }) };
    };
    const [a, b] = [session(), session()];
    await a.session.tokens();
    await b.session.tokens();

    server.hold();
    const first = rejectionOf(a.session.getAuthorization());
    await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']), { timeout: 5_000 });
    await topology.stop();
    // Long enough for A's lease to run out: no renewal of it is answered.
    await new Promise((resolve) => setTimeout(resolve, LOCK_TTL_MS * 2));
    server.release();
    expect(await first).toMatchObject({ code: 'token_store_error', cause: { code: 'redis_unavailable' } });
    return { a, b };
  }

  /** B's answer, and what Redis holds after: RT1 presented once. */
  async function spentOnce(b: Session) {
    expect(await onceAnswered(() => b.getAuthorization())).toEqual({ name: 'Authorization', value: 'Bearer AT2-0123456789' });
    expect(server.presented).toEqual(['RT1-0123456789']);
    expect(server.spentTwice()).toEqual([]);
    expect((await onceAnswered(() => b.tokens()))?.refreshToken).toBe('RT2-0123456789');
  }

  it("the other process waits on the holder's mark, the holder writes RT2 once Redis is back, on its own; RT1 is presented once", async () => {
    const { b } = await holderCutOff('waits');
    await topology.start();
    // From here on only B calls: A's rotated tokens are written without a call of A's.
    await spentOnce(b.session);
  });

  it("the holder's process ends meanwhile: closing its store waits until RT2 is written once Redis is back; RT1 is presented once", async () => {
    const { a, b } = await holderCutOff('ends');
    // A shuts down (its callers are done) while Redis is still away.
    const closed = a.store.close();
    await topology.start();
    await closed;
    await spentOnce(b.session);
  });
});
