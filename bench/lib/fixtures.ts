// Canned data shared by the call-overhead and loopback benches: the same two
// operations of @portico/dexero-fd for every contender.
export const DEXERO_BASE = 'https://fd.dexero.com/services/v6/rest';
const DEXERO_TOKEN_PATH = '/oauth/token.action';
export const ACCESS_TOKEN = 'bench_access_token_4f1c2a9e7b3d';

const record = (id: number) => ({
  id,
  type: 'individual',
  firstName: 'Marie',
  lastName: 'Tremblay',
  email: 'marie.tremblay@example.com',
  phone: '+1-418-555-0142',
  language: 'fr',
  active: true,
  address: { street: '123 rue Saint-Jean', city: 'Québec', province: 'QC', postalCode: 'G1R 1N4', country: 'CA' },
  createdAt: '2024-03-18T14:05:00Z',
  updatedAt: '2024-03-18T14:05:00Z',
});

/** GET /records/search.json?q=Tremblay&lastName=Tremblay answers this list. */
export const SEARCH_BODY = JSON.stringify({ records: [record(1024), record(1025)] });
/** POST /records.json answers the created record (201). */
export const RECORD_BODY = JSON.stringify(record(1026));
export const RECORD_INPUT = {
  type: 'individual',
  firstName: 'Marie',
  lastName: 'Tremblay',
  email: 'marie.tremblay@example.com',
  language: 'fr',
  active: true,
};
export const SEARCH_QUERY = { q: 'Tremblay', lastName: 'Tremblay' };
const TOKEN_BODY = JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'bearer', expires_in: 3600, scope: 'read' });

const byteLength = (s: string) => String(Buffer.byteLength(s));
const JSON_HEADERS = (body: string) => ({ 'content-type': 'application/json', 'content-length': byteLength(body) });

/**
 * A fetch that never touches the network: a new canned Response per call
 * (a body can be read once), chosen by method and path. Counts calls.
 */
export function cannedFetch(): typeof fetch & { calls: number; tokenCalls: number } {
  const stub = (async (input: RequestInfo | URL, init?: RequestInit) => {
    stub.calls++;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    if (url.endsWith(DEXERO_TOKEN_PATH)) {
      stub.tokenCalls++;
      return new Response(TOKEN_BODY, { status: 200, headers: { ...JSON_HEADERS(TOKEN_BODY), 'cache-control': 'no-store' } });
    }
    if (method === 'POST') return new Response(RECORD_BODY, { status: 201, headers: JSON_HEADERS(RECORD_BODY) });
    return new Response(SEARCH_BODY, { status: 200, headers: JSON_HEADERS(SEARCH_BODY) });
  }) as typeof fetch & { calls: number; tokenCalls: number };
  stub.calls = 0;
  stub.tokenCalls = 0;
  return stub;
}
