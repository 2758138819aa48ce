// Review 9: what a hostile API, a caller's odd input or a foreign error could
// make the instrumentation record or cost: echo checks bounded on cyclic and
// large bodies (finding 2), query values kept out of url.full (4, 5), a
// credential found only once the URL is decoded (6), metric series a server
// chooses (7), error.type of foreign errors (9), the walk's iterator (10).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../helpers.ts';
import { createClient } from './client.ts';
import { registerGlobals, Telemetry } from './otel.ts';

registerGlobals();
const otel = new Telemetry();
const TOKEN = 'static-token-0123456789';
let api: TestServer;
let other: TestServer;

beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  api
    .on('GET /items/7', () => json(200, { id: 7 }, { 'x-request-id': 'req-7' }))
    .on('POST /items', () => json(201, { id: 8 }, { 'x-request-id': 'req-8' }))
    .on('GET /items/4', () => ({ status: 302, headers: { location: `${other.url}/landing` } }))
    .on('GET /items', (request) => json(200, { items: [1], next: request.query.get('cursor') ? null : 'c2' }));
  other.on('GET /landing', () => json(200, {}));
});
afterAll(() => Promise.all([api.close(), other.close()]));
beforeEach(() => {
  api.reset();
  other.reset();
  otel.reset();
});

const client = (extra: Record<string, unknown> = {}) =>
  createClient({ baseUrl: api.url, auth: { accessToken: TOKEN }, maxRetries: 0, telemetry: otel.instrumentation(), ...extra });
const requestSpan = () => otel.spans().find((span) => span.attributes['url.full'] !== undefined)!;

/** An object that counts each property read: the work a walk of it does. */
function counted<T extends object>(target: T, reads: { count: number }): T {
  return new Proxy(target, {
    get: (object, key, receiver) => {
      reads.count++;
      return Reflect.get(object, key, receiver);
    },
  });
}

describe('echo checks are bounded (review 9, finding 2)', () => {
  it('a body whose objects point at each other is walked once per object, and the call completes', async () => {
    const reads = { count: 0 };
    // Six objects, each pointing at all six: a walk without a record of what it saw reads 6^8 of them.
    const nodes = Array.from({ length: 6 }, () => ({}) as Record<string, unknown>);
    const graph = nodes.map((node) => counted(node, reads));
    nodes.forEach((node, i) => {
      node.note = `note-${i}-0123456789`;
      graph.forEach((other, j) => {
        node[`n${j}`] = other;
      });
    });
    const result = await client().POST('/items', { body: graph[0], bodySerializer: () => '{}' });
    expect(result.response.status).toBe(201);
    expect(reads.count).toBeLessThan(200);
    expect(requestSpan().attributes['http.response.header.x-request-id']).toEqual(['req-8']);
  });

  it('a large body is walked only up to a budget, and then no request id is recorded (fail closed)', async () => {
    const reads = { count: 0 };
    const rows = counted(
      Array.from({ length: 200_000 }, (_, i) => `row-${i}`),
      reads,
    );
    const result = await client().POST('/items', { body: { rows }, bodySerializer: () => '{}' });
    expect(result.response.status).toBe(201);
    expect(reads.count).toBeLessThan(50_000);
    expect(requestSpan().attributes['http.response.header.x-request-id']).toBeUndefined();
  });
});

describe('echoes of a credential in another form (review 9, finding 1)', () => {
  it.each([
    ['upper case', TOKEN.toUpperCase()],
    ['Base64', btoa(TOKEN)],
  ])('the token in %s as a request id or provider code is not recorded', async (_form, echoed) => {
    api.inject('GET /items/7', json(400, { code: echoed }, { 'x-request-id': echoed }));
    await client().GET('/items/{id}', { params: { path: { id: 7 } } });
    expect(JSON.stringify(otel.spans().map((span) => span.attributes))).not.toContain(echoed);
  });
});

describe('url.full (review 9, findings 4, 5 and 6)', () => {
  it('keeps query names and records every value as REDACTED by default', async () => {
    await client().GET('/items/{id}', {
      params: { path: { id: 7 }, query: { email: 'marie@example.com', key: 'k-0123456789', 'x-amz-signature': 'abc', page: 2 } },
    });
    expect(requestSpan().attributes['url.full']).toBe(
      `${api.url}/items/7?email=REDACTED&key=REDACTED&x-amz-signature=REDACTED&page=REDACTED`,
    );
  });

  it('records query values when asked, credentials still REDACTED', async () => {
    await client({ telemetry: otel.instrumentation({ recordQueryValues: true }) }).GET('/items/{id}', {
      params: { path: { id: 7 }, query: { page: 2, api_key: 'k-0123456789' } },
    });
    expect(requestSpan().attributes['url.full']).toBe(`${api.url}/items/7?page=2&api_key=REDACTED`);
  });

  it.each([TOKEN, 'Q+wU=gTzshmTznRBuwxN/I5u1lG'])(
    'a token a same-origin Location carries in another percent-spelling is never recorded (%s)',
    async (token) => {
      const escaped = `%${token.charCodeAt(0).toString(16)}${token.slice(1)}`;
      api.inject('GET /items/7', { status: 307, headers: { location: `/landing/${escaped}/x` } });
      await client({ auth: { accessToken: token } }).GET('/items/{id}', { params: { path: { id: 7 } } });
      const shown = otel.spans().map((span) => String(span.attributes['url.full'] ?? ''));
      for (const url of shown) expect(decodeURIComponent(url)).not.toContain(token);
      expect(shown).toContain(`${api.url}/REDACTED`);
    },
  );
});

describe('metrics of hops to other origins (review 9, finding 7)', () => {
  it('name no server: a hop off the client’s origin is `_OTHER`, the span keeps its host', async () => {
    await client().GET('/items/{id}', { params: { path: { id: 4 } } });
    const durations = (await otel.points()).filter((p) => p.name === 'http.client.request.duration');
    const otherPort = Number(new URL(other.url).port);
    expect(durations.some((p) => p.attributes['server.address'] === '_OTHER' && p.attributes['server.port'] === undefined)).toBe(true);
    expect(durations.some((p) => p.attributes['server.port'] === otherPort)).toBe(false);
    const hop = otel.spans().find((span) => String(span.attributes['url.full']).startsWith(other.url))!;
    expect(hop.attributes['server.port']).toBe(otherPort);
  });
});

describe('error.type (review 9, finding 9)', () => {
  it('is Portico’s own code, else `_OTHER`: a foreign error’s name or code is never copied', async () => {
    const failing = async () => {
      throw Object.assign(new Error('no'), { name: TOKEN, code: TOKEN });
    };
    await client({ fetch: failing })
      .GET('/items/{id}', { params: { path: { id: 7 } } })
      .catch(() => undefined);
    const recorded = otel
      .spans()
      .map((span) => span.attributes['error.type'])
      .filter((t) => t !== undefined);
    expect(recorded).toContain('_OTHER');
    expect(JSON.stringify(await otel.points())).not.toContain(TOKEN);
    // The call's own ConnectionError is Portico's: its code stays.
    expect(recorded.every((t) => t === '_OTHER' || t === 'connection_error')).toBe(true);
  });
});

describe('the walk’s iterator (review 9, finding 10)', () => {
  it('is an AsyncGenerator with telemetry on as off: throw() stops the walk', async () => {
    const off = createClient({ baseUrl: api.url, auth: { accessToken: TOKEN } }).paginate('/items', {});
    const on = client().paginate('/items', {});
    expect(Object.prototype.toString.call(on)).toBe(Object.prototype.toString.call(off));
    expect(typeof on.throw).toBe('function');
    await on.next();
    await expect(on.throw(new Error('consumer stop'))).rejects.toThrow('consumer stop');
    expect(await on.next()).toEqual({ done: true, value: undefined });
    expect(otel.one('portico.paginate').attributes['error.type']).toBe('_OTHER');
  });
});
