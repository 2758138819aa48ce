// (2) Real HTTP on loopback: a node:http server on 127.0.0.1 (its own
// process) answering a small JSON body; 50 concurrent callers send a fixed
// number of requests; Portico (cached client-credentials token) vs raw fetch.
//   node --import tsx bench/loopback.ts [--quick]
import createFetchClient from 'openapi-fetch';
import { createClient, type paths } from '../packages/dexero-fd/dist/index.js';
import { ACCESS_TOKEN, SEARCH_BODY, SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { type Figure, fmt, verdict, writeResult } from './lib/results.ts';
import { startLoopback } from './lib/spawn-server.ts';

const quick = process.argv.includes('--quick');
const CONCURRENCY = 50;
const REQUESTS = quick ? 2_000 : 10_000;
const ROUNDS = quick ? 1 : 5;
const started = performance.now();

const server = await startLoopback(5);
try {
  const base = `${server.url}/services/v6/rest`;
  const portico = createClient({
    baseUrl: base,
    auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action` },
  });
  const bare = createFetchClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } });
  const query = new URLSearchParams(SEARCH_QUERY).toString();
  const contenders: Record<string, () => Promise<unknown>> = {
    fetch: async () => {
      const response = await fetch(`${base}/records/search.json?${query}`, { headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    // Not a headline figure: raw fetch that can be cancelled (a signal in its init, as any call with a timeout needs).
    'fetch, cancellable': async () => {
      const response = await fetch(`${base}/records/search.json?${query}`, {
        headers: { Authorization: `Bearer ${ACCESS_TOKEN}` },
        signal: new AbortController().signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    Portico: async () => {
      const { data, error } = await portico.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
      if (error !== undefined) throw new Error(JSON.stringify(error));
      return data;
    },
    // Not a headline figure: shows which part of the gap is openapi-fetch's own.
    'openapi-fetch': async () => {
      const { data, error } = await bare.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
      if (error !== undefined) throw new Error(JSON.stringify(error));
      return data;
    },
  };
  const expected = JSON.stringify(JSON.parse(SEARCH_BODY));
  for (const [name, call] of Object.entries(contenders))
    if (JSON.stringify(await call()) !== expected) throw new Error(`${name}: unexpected body`);

  const run = (call: () => Promise<unknown>, total: number) => load(call, total, CONCURRENCY);

  // Warm-up: connections opened, JIT warm, Portico's token fetched.
  for (const call of Object.values(contenders)) await run(call, quick ? 500 : 2_000);
  const NAMES = Object.keys(contenders);
  const runs: Record<string, { rps: number; p50: number; p99: number; cpu: number }[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length]!);
    for (const name of order) runs[name]!.push(await run(contenders[name]!, REQUESTS));
  }
  const tokenRequests = await server.tokenRequests();
  if (tokenRequests !== 1) throw new Error(`expected one token request, saw ${tokenRequests}`);

  // Each contender's best round (highest throughput; its latencies and CPU from that same round):
  // other work on this machine only ever slows a round down.
  const best = (name: string) => runs[name]!.reduce((a, b) => (b.rps > a.rps ? b : a));
  const m = (name: string, k: 'rps' | 'p50' | 'p99' | 'cpu') => best(name)[k];
  const figures: Figure[] = [
    {
      label: 'loopback HTTP, 50 callers: throughput',
      value: m('Portico', 'rps'),
      unit: 'req/s',
      baselineLabel: 'raw fetch',
      baseline: m('fetch', 'rps'),
      better: 'higher',
    },
    {
      label: 'loopback HTTP, 50 callers: p50 latency',
      value: m('Portico', 'p50'),
      unit: 'ms',
      baselineLabel: 'raw fetch',
      baseline: m('fetch', 'p50'),
      better: 'lower',
    },
    {
      label: 'loopback HTTP, 50 callers: p99 latency',
      value: m('Portico', 'p99'),
      unit: 'ms',
      baselineLabel: 'raw fetch',
      baseline: m('fetch', 'p99'),
      better: 'lower',
    },
  ];
  const rows = Object.entries(runs).flatMap(([name, rs]) =>
    rs.map(
      (r, i) =>
        `| ${name} | ${i + 1} | ${fmt(r.rps, 'req/s')} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.cpu.toFixed(0)} µs |`,
    ),
  );
  const slower = m('fetch', 'rps') / m('Portico', 'rps') - 1;
  const explain =
    slower <= 0.05
      ? ''
      : `
### Why Portico is slower than raw fetch here, and why it is worth it

Throughput is ${((1 - m('Portico', 'rps') / m('fetch', 'rps')) * 100).toFixed(0)}% below raw fetch (the issue allows 15%). With 50 callers and a server that answers at once on the other core, the client process is CPU-bound: requests per second is the inverse of the client's CPU time per request, so any client work shows up one to one. Per request the client spent ${m('fetch', 'cpu').toFixed(0)} µs of CPU with raw fetch, ${m('fetch, cancellable', 'cpu').toFixed(0)} µs with raw fetch given an AbortController's signal, ${m('openapi-fetch', 'cpu').toFixed(0)} µs with bare openapi-fetch and ${m('Portico', 'cpu').toFixed(0)} µs with Portico (best rounds). Three parts, from the rows above and CPU profiles of each client (\`node --cpu-prof\` of 30,000 requests):

- **Cancellation** (${(m('fetch, cancellable', 'cpu') - m('fetch', 'cpu')).toFixed(0)} µs, the cancellable row against raw fetch): undici links the Request it builds to a caller's signal (a listener, a WeakRef and a FinalizationRegistry entry per request), and Node 20 makes every new AbortSignal transferable. A call that can time out or be cancelled pays it; Portico gives fetch the attempt's signal, so that a timeout or a caller's abort stops the socket and the body read, not just the wait.
- **openapi-fetch's own work**: URL, path and query serialisation, header merging and the copies of the options it makes per call. Bare openapi-fetch also builds a Request that fetch then copies; Portico has openapi-fetch hand over the URL and init instead (its \`Request\` option), and fetch builds the only Request.
- **Portico's**: the token header from the cached token set, the deadline, bounded and typed body parsing, required-field checks; profiled at about 15 µs per request.

Against a real provider the client is not CPU-bound: a call waits tens to hundreds of ms on the network, and ${(m('Portico', 'cpu') - m('fetch', 'cpu')).toFixed(0)} µs more CPU is under 1% of a 20 ms round trip; only a process that sustains about ${fmt(1e6 / m('Portico', 'cpu'), 'req/s')} per core, where the client's own CPU rather than the network sets the pace, sees the difference as throughput.
`;
  const details = `A \`node:http\` server on 127.0.0.1, in its own process, answers \`GET /services/v6/rest/records/search.json?q=…&lastName=…\` with the same ${Buffer.byteLength(SEARCH_BODY)}-byte JSON list as (1). ${CONCURRENCY} concurrent callers share ${REQUESTS.toLocaleString('en-US')} requests per run (each caller sends its next request when its previous answer is read); both clients use Node's global \`fetch\` (undici, keep-alive). Portico: \`@portico/dexero-fd\` with client credentials against the server's token endpoint (one token request in all, checked) and default options (timeouts, retries, response parsing and validation on). Raw fetch: a hand-written \`fetch\` with a fixed \`Authorization\` header and \`response.json()\`. Two more rows show where the gap comes from: the same raw fetch given a new AbortController's signal (the least any cancellable call pays), and bare openapi-fetch over the same \`paths\`. After a warm-up run each, ${ROUNDS} round(s) in rotating order; each figure is from the contender's best round (highest throughput), since other work on the machine only ever slows a round down. Client CPU per request is \`process.cpuUsage()\` of the client process over the run, divided by the requests.

| client | round | requests/s | p50 | p99 | client CPU per request |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${figures.map((f) => `- ${f.label}: Portico ${fmt(f.value, f.unit)} vs raw fetch ${fmt(f.baseline!, f.unit)}: ${verdict(f)}`).join('\n')}
${explain}`;
  writeResult({ section: 2, title: 'Real HTTP on loopback', figures, details, ms: performance.now() - started });
  console.log(details);
} finally {
  server.close();
}
