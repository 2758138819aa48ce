// What a plugged-in fetch and openapi-fetch middleware see. Without
// middleware an attempt is the URL and fetch's init (fetch builds its own
// Request from them); with middleware, a real Request for it to read or
// replace. Either way the server gets the same request, token included.
import type { Middleware } from 'openapi-fetch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as dexero from '../../dexero-fd/src/index.ts';
import { DexeroFdEmulator } from '../../testing/src/emulators/dexero-fd.ts';
import { bearerOf, json } from './helpers.ts';

const PUT = 'PUT /services/v6/rest/records/7.json';
let fd: DexeroFdEmulator;
beforeAll(async () => {
  fd = await new DexeroFdEmulator({ clientId: 'fetch-client', clientSecret: 'fetch-client-secret-51c2' }).start();
});
afterAll(() => fd.close());
beforeEach(() => fd.reset());

/** globalThis.fetch, noting what each API call (not the token request) was given. */
function recordingFetch() {
  const seen: { input: unknown; init: RequestInit | undefined }[] = [];
  const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.endsWith('/oauth/token.action')) seen.push({ input, init });
    return globalThis.fetch(input, init);
  };
  return { seen, fetch };
}

const clientWith = (fetch: typeof globalThis.fetch) =>
  dexero.createClient({
    baseUrl: fd.apiBaseUrl,
    fetch,
    auth: { clientId: 'fetch-client', clientSecret: 'fetch-client-secret-51c2', tokenUrl: fd.tokenUrl },
  });

const update = { params: { path: { recordId: 7 } }, body: { firstName: 'Marie' } } as const;
const traced: Middleware = {
  onRequest({ request }) {
    if (!(request instanceof Request)) throw new Error('middleware was not given a Request');
    request.headers.set('x-trace', 'trace-1');
    return request;
  },
};

describe('what fetch is given', () => {
  it('without middleware: the URL and an init with method, headers, token, body and a live signal', async () => {
    fd.inject(PUT, json(200, { id: 7 }));
    const { seen, fetch } = recordingFetch();
    const { data } = await clientWith(fetch).PUT('/records/{recordId}.{format}', { ...update, keepalive: true } as never);
    expect(data).toEqual({ id: 7 });
    const [{ input, init }] = seen as [(typeof seen)[number]];
    expect(input).toBe(`${fd.apiBaseUrl}/records/7.json`);
    expect(init!.method).toBe('PUT');
    expect(init!.body).toBe('{"firstName":"Marie"}');
    expect(new Headers(init!.headers).get('content-type')).toBe('application/json');
    expect(new Headers(init!.headers).get('authorization')).toMatch(/^Bearer /);
    // A fetch option the caller gave goes along as it is.
    expect(init!.keepalive).toBe(true);
    expect(init!.signal).toBeInstanceOf(AbortSignal);
    expect(init!.signal!.aborted).toBe(false);
    const [put] = fd.requests.filter((r) => r.method === 'PUT');
    expect(put!.body).toBe('{"firstName":"Marie"}');
    expect(bearerOf(put!)).toBeDefined();
  });

  it('after a 401: the replay goes with the body and the fresh token', async () => {
    const { seen, fetch } = recordingFetch();
    const c = clientWith(fetch);
    await c.GET('/records.{format}', {});
    const stale = bearerOf(fd.requests.at(-1)!);
    fd.tokens.revokeAll();
    fd.inject(PUT, (r) => (fd.tokens.isValid(bearerOf(r)) ? json(200, { id: 7 }) : json(401, { error: 'invalid_token' })), { times: 2 });
    expect((await c.PUT('/records/{recordId}.{format}', update)).data).toEqual({ id: 7 });
    const [, replay] = seen.slice(1);
    expect(replay!.init!.body).toBe('{"firstName":"Marie"}');
    const puts = fd.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.body)).toEqual(['{"firstName":"Marie"}', '{"firstName":"Marie"}']);
    expect(bearerOf(puts[0]!)).toBe(stale);
    expect(bearerOf(puts[1]!)).not.toBe(stale);
  });

  it('with middleware from use(): a Request it can change, until it is ejected', async () => {
    fd.inject(PUT, json(200, { id: 7 }), { times: 3 });
    const { seen, fetch } = recordingFetch();
    const c = clientWith(fetch);
    c.use(traced);
    await c.PUT('/records/{recordId}.{format}', update);
    c.eject(traced);
    await c.PUT('/records/{recordId}.{format}', update);
    expect(seen[0]!.input).toBeInstanceOf(Request);
    expect(typeof seen[1]!.input).toBe('string');
    const puts = fd.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.headers['x-trace'])).toEqual(['trace-1', undefined]);
    expect(puts.map((r) => r.body)).toEqual(['{"firstName":"Marie"}', '{"firstName":"Marie"}']);
    expect(puts.every((r) => bearerOf(r) !== undefined)).toBe(true);
  });

  it("with a call's own middleware: a Request for that call only", async () => {
    fd.inject(PUT, json(200, { id: 7 }), { times: 2 });
    const { seen, fetch } = recordingFetch();
    const c = clientWith(fetch);
    await c.PUT('/records/{recordId}.{format}', { ...update, middleware: [traced] } as never);
    await c.PUT('/records/{recordId}.{format}', update);
    expect(seen[0]!.input).toBeInstanceOf(Request);
    expect(typeof seen[1]!.input).toBe('string');
    expect(fd.requests.filter((r) => r.method === 'PUT').map((r) => r.headers['x-trace'])).toEqual(['trace-1', undefined]);
  });
});
