// (8) Shared token store cost: the same call with the client-credentials
// token in a Redis store (real redis-server on 127.0.0.1) against the default
// memory store, same loopback API server, same run.
//   node --import tsx bench/redis-store.ts [--quick]
import { randomBytes } from 'node:crypto';
import { MemoryTokenStore, type TokenStore } from '../packages/auth/dist/index.js';
import { createClient } from '../packages/dexero-fd/dist/index.js';
import { createRedisStore } from '../packages/redis/dist/index.js';
import { startRedis } from '../packages/testing/src/redis.ts';
import { SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { type Figure, fmt, verdict, writeResult } from './lib/results.ts';
import { startLoopback } from './lib/spawn-server.ts';

const quick = process.argv.includes('--quick');
const CONCURRENCY = 50;
const REQUESTS = quick ? 2_000 : 10_000;
const SEQUENTIAL = quick ? 500 : 3_000;
const ROUNDS = quick ? 1 : 3;
const started = performance.now();

const [server, redis] = await Promise.all([startLoopback(5), startRedis()]);
const redisStore = createRedisStore({ url: redis.url });
const sealedStore = createRedisStore({ url: redis.url, keyPrefix: 'sealed:', encryptionKey: randomBytes(32).toString('base64') });
const uncachedStore = createRedisStore({ url: redis.url, keyPrefix: 'uncached:', cacheMs: 0 });
try {
  const base = `${server.url}/services/v6/rest`;
  const client = (store: TokenStore) =>
    createClient({
      baseUrl: base,
      auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action`, store },
    });
  const clients = {
    memory: client(new MemoryTokenStore()),
    Redis: client(redisStore),
    'Redis, encrypted': client(sealedStore),
    'Redis, cacheMs 0': client(uncachedStore),
  };
  const call = (c: ReturnType<typeof client>) => async () => {
    const { error } = await c.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
    if (error !== undefined) throw new Error(JSON.stringify(error));
  };

  type Result = Awaited<ReturnType<typeof load>>;
  const NAMES = Object.keys(clients) as (keyof typeof clients)[];
  const runs = {
    one: Object.fromEntries(NAMES.map((n) => [n, [] as Result[]])),
    fifty: Object.fromEntries(NAMES.map((n) => [n, [] as Result[]])),
  };
  for (const name of NAMES) await load(call(clients[name]), quick ? 300 : 1_000, CONCURRENCY);
  for (let round = 0; round < ROUNDS; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length]!);
    for (const name of order) {
      runs.one[name]!.push(await load(call(clients[name]), SEQUENTIAL, 1));
      runs.fifty[name]!.push(await load(call(clients[name]), REQUESTS, CONCURRENCY));
    }
  }
  const tokenRequests = await server.tokenRequests();
  if (tokenRequests !== NAMES.length) throw new Error(`expected one token request per store, saw ${tokenRequests}`);

  // Best round per contender: other work on the machine only ever slows a round down.
  const best = (kind: 'one' | 'fifty', name: string) => runs[kind][name]!.reduce((a, b) => (b.rps > a.rps ? b : a));
  const figures: Figure[] = [
    {
      label: 'one call at a time, Redis token store: p50 latency',
      value: best('one', 'Redis').p50,
      unit: 'ms',
      baselineLabel: 'memory store',
      baseline: best('one', 'memory').p50,
      better: 'lower',
    },
    {
      label: '50 callers, Redis token store: throughput',
      value: best('fifty', 'Redis').rps,
      unit: 'req/s',
      baselineLabel: 'memory store',
      baseline: best('fifty', 'memory').rps,
      better: 'higher',
    },
    {
      label: 'one call at a time, Redis token store without cache: p50 latency',
      value: best('one', 'Redis, cacheMs 0').p50,
      unit: 'ms',
      baselineLabel: 'memory store',
      baseline: best('one', 'memory').p50,
      better: 'lower',
    },
    {
      label: '50 callers, encrypted Redis token store: throughput',
      value: best('fifty', 'Redis, encrypted').rps,
      unit: 'req/s',
      baselineLabel: 'memory store',
      baseline: best('fifty', 'memory').rps,
      better: 'higher',
    },
  ];
  const rows = (['one', 'fifty'] as const).flatMap((kind) =>
    NAMES.flatMap((name) =>
      runs[kind][name]!.map(
        (r, i) =>
          `| ${kind === 'one' ? '1' : CONCURRENCY} | ${name} | ${i + 1} | ${fmt(r.rps, 'req/s')} | ${r.p50.toFixed(3)} ms | ${r.p99.toFixed(3)} ms |`,
      ),
    ),
  );
  const details = `\`@portico/dexero-fd\` with client credentials, the token kept in the default \`MemoryTokenStore\`, in \`createRedisStore()\` (a \`redis-server\` on 127.0.0.1 started for the run, append-only persistence) in the same with \`encryptionKey\` set, and with \`cacheMs: 0\`. The Redis store lets a client reuse the tokens it read for the header of its requests during \`cacheMs\` (default 1 s) instead of an \`HMGET\` round trip (plus an AES-256-GCM decryption when encrypted) per call. The trade-off: another instance's new access token is noticed up to 1 s late (the old one is normally still valid; if the provider revoked it, the 401 makes the client re-read Redis and replay once), and calls go on for up to 1 s when Redis goes away. Renewals never use the cache: they re-read under the lock and write with compare-and-set, so the cache cannot make a refresh token be spent twice. \`cacheMs: 0\` shows the cost of a read per call. The API is the loopback server of (2). ${SEQUENTIAL.toLocaleString('en-US')} calls one at a time, then ${REQUESTS.toLocaleString('en-US')} calls by ${CONCURRENCY} callers, per round; after a warm-up, ${ROUNDS} round(s) in rotating order; figures from each contender's best round. One token request per store in all (checked).

| callers | store | round | requests/s | p50 | p99 |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${figures.map((f) => `- ${f.label}: ${fmt(f.value, f.unit)} vs memory store ${fmt(f.baseline!, f.unit)}: ${verdict(f)}`).join('\n')}
`;
  writeResult({ section: 8, title: 'Shared token store: Redis against memory', figures, details, ms: performance.now() - started });
  console.log(details);
} finally {
  await Promise.all([redisStore.close(), sealedStore.close(), uncachedStore.close()]);
  server.close();
  await redis.close();
}
