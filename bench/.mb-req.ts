import { ACCESS_TOKEN, SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { startLoopback } from './lib/spawn-server.ts';
const server = await startLoopback(5);
const base = `${server.url}/services/v6/rest`;
const query = new URLSearchParams(SEARCH_QUERY).toString();
const url = `${base}/records/search.json?${query}`;
const mk = () => ({ headers: new Headers({ Authorization: `Bearer ${ACCESS_TOKEN}` }), method: 'GET', redirect: 'follow' as const });
const c: Record<string, () => Promise<unknown>> = {
  raw: async () => (await fetch(url, mk())).json(),
  rawSignal: async () => (await fetch(url, { ...mk(), signal: new AbortController().signal })).json(),
  req: async () => (await fetch(new Request(url, mk()))).json(),
  reqSignal: async () => (await fetch(new Request(url, mk()), { signal: new AbortController().signal })).json(),
};
for (const f of Object.values(c)) await load(f, 2000, 50);
const best: Record<string, number> = {}; for (let r = 0; r < 12; r++) for (const [n, f] of Object.entries(c)) { const x = await load(f, 8000, 50); best[n] = Math.min(best[n] ?? 1e9, x.cpu); } console.log(best);
server.close();
