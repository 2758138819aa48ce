// (3) Token single-flight at scale: 10,000 concurrent calls through one
// client whose session token has expired, against a loopback token endpoint
// that answers after 5 ms: how many token requests (must be 1), and the p99
// latency added relative to the same 10,000 calls with a warm token.
//   node --import tsx bench/singleflight.ts [--quick]
import { createClient, oauth } from '../packages/finexer/dist/index.js';
import { type Figure, median, percentile, writeResult } from './lib/results.ts';
import { startLoopback } from './lib/spawn-server.ts';

const quick = process.argv.includes('--quick');
const CALLS = 10_000;
const TOKEN_LATENCY_MS = 5;
const TRIALS = quick ? 1 : 5;
const started = performance.now();

const server = await startLoopback(TOKEN_LATENCY_MS);
try {
  const flow = oauth({
    clientId: 'bench-client',
    clientSecret: 'bench-secret-value',
    redirectUri: 'https://app.example/callback',
    tokenUrl: `${server.url}/oauth/token`,
  });

  async function trial(expired: boolean) {
    const session = flow.session({
      accessToken: 'stale_or_warm_access_token',
      tokenType: 'Bearer',
      refreshToken: 'bench_refresh_token',
      expiresAt: expired ? Date.now() - 1_000 : Date.now() + 3_600_000,
      raw: {},
    });
    const client = createClient({ baseUrl: server.url, auth: session });
    await server.tokenRequests(true);
    const latencies = new Float64Array(CALLS);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CALLS }, async (_, i) => {
        const s = performance.now();
        const { error } = await client.GET('/customers/{id}', { params: { path: { id: 'cus_9s6XKzkNRiz8i3' } } });
        if (error !== undefined) throw new Error(JSON.stringify(error));
        latencies[i] = performance.now() - s;
      }),
    );
    const wall = performance.now() - t0;
    const c = process.cpuUsage(cpu0);
    const cpu = (c.user + c.system) / 1000;
    const sorted = Array.from(latencies).sort((a, b) => a - b);
    const tokens = await server.tokenRequests();
    const connections = await server.connections();
    const fresh = (await session.tokens())?.accessToken;
    if (expired && !fresh?.startsWith('loopback_token_')) throw new Error('the session did not refresh');
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)!, wall, cpu, tokens, connections };
  }

  await trial(false); // warm-up: sockets, JIT
  const warm: Awaited<ReturnType<typeof trial>>[] = [];
  const cold: Awaited<ReturnType<typeof trial>>[] = [];
  for (let t = 0; t < TRIALS; t++) {
    warm.push(await trial(false));
    cold.push(await trial(true));
  }
  // The refresh itself, without 10,000 calls queueing behind each other: one
  // call at a time on a new session, warm and expired alternating.
  const single = { warm: [] as number[], expired: [] as number[] };
  for (let i = 0; i < (quick ? 50 : 500); i++) {
    for (const kind of ['warm', 'expired'] as const) {
      const session = flow.session({
        accessToken: 'single_call_token',
        tokenType: 'Bearer',
        refreshToken: 'bench_refresh_token',
        expiresAt: Date.now() + (kind === 'warm' ? 3_600_000 : -1_000),
        raw: {},
      });
      const client = createClient({ baseUrl: server.url, auth: session });
      const s = performance.now();
      const { error } = await client.GET('/customers/{id}', { params: { path: { id: 'cus_9s6XKzkNRiz8i3' } } });
      if (error !== undefined) throw new Error(JSON.stringify(error));
      single[kind].push(performance.now() - s);
    }
  }
  for (const l of Object.values(single)) l.sort((a, b) => a - b);
  const tokenCounts = cold.map((r) => r.tokens);
  const warmTokens = warm.map((r) => r.tokens);
  const m = (rs: typeof warm, k: 'p50' | 'p99' | 'wall' | 'cpu') => median(rs.map((r) => r[k]));
  const addedP99 = m(cold, 'p99') - m(warm, 'p99');
  const figures: Figure[] = [
    {
      label: '10,000 concurrent calls, expired token: token requests',
      value: Math.max(...tokenCounts),
      unit: '',
      better: 'lower',
      note: tokenCounts.every((n) => n === 1)
        ? `must be 1: ${tokenCounts.join(', ')} over ${TRIALS} trial(s), PASS`
        : `must be 1: saw ${tokenCounts.join(', ')}, FAIL`,
    },
    {
      label: '10,000 concurrent calls: p99, expired token',
      value: m(cold, 'p99'),
      unit: 'ms',
      baselineLabel: 'warm token',
      baseline: m(warm, 'p99'),
      better: 'lower',
      note: `added p99 ${addedP99.toFixed(1)} ms`,
    },
    {
      label: 'one call at a time: p99, expired token (refresh incl.)',
      value: percentile(single.expired, 99),
      unit: 'ms',
      baselineLabel: 'warm token',
      baseline: percentile(single.warm, 99),
      better: 'lower',
      note: `added p99 ${(percentile(single.expired, 99) - percentile(single.warm, 99)).toFixed(1)} ms, p50 ${(percentile(single.expired, 50) - percentile(single.warm, 50)).toFixed(1)} ms`,
    },
  ];
  const rows = [...warm.map((r, i) => ['warm', i, r] as const), ...cold.map((r, i) => ['expired', i, r] as const)].map(
    ([kind, i, r]) =>
      `| ${kind} | ${i + 1} | ${r.tokens} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.wall.toFixed(0)} ms | ${r.cpu.toFixed(0)} ms | ${r.connections.toLocaleString('en-US')} |`,
  );
  const details = `\`@portico/finexer\` (authorization code + refresh token). Each trial makes a new \`oauth().session(tokens)\` and \`createClient({ auth: session })\`, then starts ${CALLS.toLocaleString('en-US')} \`GET /customers/{id}\` calls at once against a \`node:http\` server on 127.0.0.1 (own process) whose token endpoint answers a refresh after ${TOKEN_LATENCY_MS} ms. Warm: the session's token expires in an hour. Expired: it expired a second ago, so every call needs the refresh. Token requests are counted by the server; latency is from starting a call to its parsed result. ${TRIALS} trial(s) each after a warm-up trial, alternating; figures are medians over trials. Warm tokens sent ${warmTokens.join(', ')} token request(s).

| token | trial | token requests | p50 | p99 | max | all ${CALLS.toLocaleString('en-US')} done | client CPU | new connections |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Added p99 latency for an expired token: ${addedP99.toFixed(1)} ms (p99 ${m(cold, 'p99').toFixed(1)} ms expired vs ${m(warm, 'p99').toFixed(1)} ms warm), with one refresh of ${TOKEN_LATENCY_MS} ms serving all ${CALLS.toLocaleString('en-US')} calls. With 10,000 calls started at once the client (one core) needs seconds to get through them, so p99 is mostly queueing: warm p99 ranged ${Math.min(...warm.map((r) => r.p99)).toFixed(0)}–${Math.max(...warm.map((r) => r.p99)).toFixed(0)} ms over the trials, expired ${Math.min(...cold.map((r) => r.p99)).toFixed(0)}–${Math.max(...cold.map((r) => r.p99)).toFixed(0)} ms. The client spent ${m(warm, 'cpu').toFixed(0)} ms of CPU on a warm trial and ${m(cold, 'cpu').toFixed(0)} ms on an expired one (medians). ${
    addedP99 > Math.max(...warm.map((r) => r.p99)) - Math.min(...warm.map((r) => r.p99))
      ? `The expired trials are slower by more than that spread, and use more client CPU, with no new connections (last column: all trials reuse the pooled sockets). CPU profiles of a warm and an expired trial (\`node --cpu-prof\`) look alike, led by undici's connection pool, socket writes and the garbage collector, with \`@portico/auth\` under 1%: the extra time goes to dispatching the 10,000 requests that the refresh releases in one burst, not to the token handling, which is one refresh and one shared promise that every waiting call awaits.`
      : 'The difference is within that spread: at this concurrency the refresh adds nothing measurable beyond queueing.'
  }

The refresh alone, one call at a time on a new session (${single.warm.length} calls each, alternating): warm p50 ${percentile(single.warm, 50).toFixed(2)} ms / p99 ${percentile(single.warm, 99).toFixed(2)} ms; expired p50 ${percentile(single.expired, 50).toFixed(2)} ms / p99 ${percentile(single.expired, 99).toFixed(2)} ms: the refresh adds ${(percentile(single.expired, 50) - percentile(single.warm, 50)).toFixed(2)} ms at p50 (the endpoint's ${TOKEN_LATENCY_MS} ms plus one loopback round trip and parsing).`;
  writeResult({ section: 3, title: 'Token single-flight at scale', figures, details, ms: performance.now() - started });
  console.log(details);
} finally {
  server.close();
}
