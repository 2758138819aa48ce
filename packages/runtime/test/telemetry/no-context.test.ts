// Review 9, finding 8: providers of the app's own and no context manager
// registered (a BasicTracerProvider registers none; the API's default keeps
// no context). A page request of a walk then finds no call through the
// active context: it records no request id, rather than one the echo check
// could not test against the call's inputs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../helpers.ts';
import { createClient } from './client.ts';
import { Telemetry } from './otel.ts';

const otel = new Telemetry();
const CUSTOMER = 'customer-ref-0123456789';
let api: TestServer;

beforeAll(async () => {
  api = await startServer();
  // A hostile API: it echoes the walk's query value into its request id.
  api.on('GET /items', (request) =>
    json(200, { items: [1], next: request.query.get('cursor') ? null : 'c2' }, { 'x-request-id': request.query.get('customer') ?? 'none' }),
  );
});
afterAll(() => api.close());

it('without a context manager, a walk’s page requests record no request id that could echo the call’s inputs', async () => {
  const client = createClient({ baseUrl: api.url, auth: { accessToken: 'static-token-0123456789' }, telemetry: otel.instrumentation() });
  const seen: unknown[] = [];
  for await (const item of client.paginate('/items', { params: { query: { customer: CUSTOMER } } })) seen.push(item);
  expect(seen).toEqual([1, 1]);
  const requests = otel.spans().filter((span) => span.attributes['url.full'] !== undefined);
  expect(requests.length).toBe(2);
  expect(JSON.stringify(otel.spans().map((span) => span.attributes))).not.toContain(CUSTOMER);
});

it('without a context manager, a renewal that sent its token request is `renewed`, and the request hangs under it (review 11, finding 2)', async () => {
  api
    .on('POST /oauth/token', () => json(200, { access_token: 'token-0123456789', token_type: 'Bearer', expires_in: 3600 }))
    .on('GET /items/7', () => json(200, { id: 7 }));
  otel.reset();
  const client = createClient({
    baseUrl: api.url,
    auth: { clientId: 'telemetry-client', clientSecret: 'telemetry-secret-0123456789', tokenUrl: `${api.url}/oauth/token` },
    telemetry: otel.instrumentation(),
  });
  expect((await client.GET('/items/{id}', { params: { path: { id: 7 } } })).data).toEqual({ id: 7 });
  const renew = otel.one('portico.auth.renew');
  expect(renew.attributes['portico.auth.outcome']).toBe('renewed');
  expect(otel.parentOf(otel.one('POST'))?.spanContext().spanId).toBe(renew.spanContext().spanId);
  const renewals = (await otel.points()).filter((point) => point.name === 'portico.auth.renewals');
  expect(renewals.map((point) => point.attributes['portico.auth.outcome'])).toEqual(['renewed']);
});
