import { createClient } from '../packages/dexero-fd/dist/index.js';
import { ACCESS_TOKEN, SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { startLoopback } from './lib/spawn-server.ts';
const server = await startLoopback(5);
const base = `${server.url}/services/v6/rest`;
const url = `${base}/records/search.json?${new URLSearchParams(SEARCH_QUERY)}`;
const portico = createClient({ baseUrl: base, auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action` } });
const who = process.argv[2];
const f = who === 'raw' ? async () => (await fetch(url, { headers: { Authorization: `Bearer ${ACCESS_TOKEN}` } })).json()
  : async () => (await portico.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } })).data;
await load(f, 3000, 50);
const x = await load(f, 30000, 50); console.log(who, x.cpu);
server.close();
