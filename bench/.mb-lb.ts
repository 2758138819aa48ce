import createFetchClient from 'openapi-fetch';
import { createClient, type paths } from '../packages/dexero-fd/dist/index.js';
import { ACCESS_TOKEN, SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { startLoopback } from './lib/spawn-server.ts';
const server = await startLoopback(5);
const base = `${server.url}/services/v6/rest`;
const query = new URLSearchParams(SEARCH_QUERY).toString();
const url = `${base}/records/search.json?${query}`;
const portico = createClient({ baseUrl: base, auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action` } });
const porticoNoVal = createClient({ baseUrl: base, validateResponses: false, auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action` } });
const bare = createFetchClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } });
const mk = () => ({ headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } });
const c: Record<string, () => Promise<unknown>> = {
  raw: async () => (await fetch(url, mk())).json(),
  rawSignal: async () => (await fetch(url, { ...mk(), signal: new AbortController().signal })).json(),
  bare: async () => (await bare.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } })).data,
  portico: async () => (await portico.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } })).data,
  porticoNoVal: async () => (await porticoNoVal.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } })).data,
};
for (const f of Object.values(c)) await load(f, 2000, 50);
const best: Record<string, number> = {}; for (let r = 0; r < Number(process.argv[2] ?? 8); r++) for (const [n, f] of Object.entries(c)) { const x = await load(f, 8000, 50); best[n] = Math.min(best[n] ?? 1e9, x.cpu); } console.log(best);
server.close();
