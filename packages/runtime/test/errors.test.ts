// Group 7: openapi-fetch's `{ data, error, response }` stays the default; the
// opt-in throwing style raises one class per status family carrying status,
// the parsed error body, method, path template and request id. Providers that
// fail inside an HTTP 200 (ExpertFile, Dapi) give an error, never data.
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as dapi from '../../dapi/src/index.ts';
import * as expertfile from '../../expertfile/src/index.ts';
import * as finexer from '../../finexer/src/index.ts';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  EnvelopeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
} from '../src/index.ts';
import { json, rejectionOf, startServer, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const ROUTE = 'GET /customers/cus_1';
const finexerClient = <T extends boolean>(throwOnError: T) =>
  finexer.createClient({ baseUrl: server.url, auth: { accessToken: 'errors-test-token' }, maxRetries: 0, throwOnError });
const getCustomer = <T extends boolean>(throwOnError: T) =>
  finexerClient(throwOnError).GET('/customers/{id}', { params: { path: { id: 'cus_1' } } });

describe('typed errors: status families in the throwing style', () => {
  const families: [number, new (...args: never[]) => ApiError, string][] = [
    [400, BadRequestError, 'bad_request'],
    [422, BadRequestError, 'bad_request'],
    [401, AuthenticationError, 'authentication_failed'],
    [403, PermissionDeniedError, 'permission_denied'],
    [404, NotFoundError, 'not_found'],
    [409, ConflictError, 'conflict'],
    [429, RateLimitError, 'rate_limited'],
    [500, ServerError, 'server_error'],
    [502, ServerError, 'server_error'],
    [503, ServerError, 'server_error'],
    [418, ApiError, 'api_error'],
  ];

  it.each(families.map(([status, Class, code]) => [status, Class.name, Class, code] as const))(
    'HTTP %i -> %s',
    async (status, _name, Class, code) => {
      const body = { error: { message: `failure ${status}`, code: `E${status}` } };
      server.inject(ROUTE, json(status, body, { 'x-request-id': `req-${status}` }));
      const error = await rejectionOf(getCustomer(true));
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toBeInstanceOf(finexer.PorticoError);
      expect((error as Error).constructor).toBe(Class);
      expect(error).toMatchObject({ code, status, body, method: 'GET', path: '/customers/{id}', requestId: `req-${status}` });
      expect((error as Error).message).toBe(`GET /customers/{id} failed with HTTP ${status}: failure ${status} (request id req-${status})`);
      expect((error as Error).name).toBe(Class.name);
    },
  );

  it.each([
    ['Content-Length: 0', { 'content-length': '0' }],
    ['an empty chunked body', {}],
  ])('an error status with an empty body (%s) still throws', async (_name, headers) => {
    server.inject(ROUTE, { status: 503, headers: { 'x-request-id': 'req-empty', ...headers }, body: '' }, { times: 1 });
    const error = await rejectionOf(getCustomer(true));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, body: undefined, requestId: 'req-empty' });
    expect((error as Error).message).toBe('GET /customers/{id} failed with HTTP 503 (request id req-empty)');
  });

  it('an error status still throws when the caller reads the body itself (parseAs)', async () => {
    server.inject(ROUTE, json(404, { error: { message: 'No such customer' } }));
    const error = await rejectionOf(finexerClient(true).GET('/customers/{id}', { params: { path: { id: 'cus_1' } }, parseAs: 'text' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, body: { error: { message: 'No such customer' } } });

    server.inject(ROUTE, json(200, { id: 'cus_1' }));
    const { data } = await finexerClient(true).GET('/customers/{id}', { params: { path: { id: 'cus_1' } }, parseAs: 'text' });
    expect(data).toBe('{"id":"cus_1"}');
  });

  it('the same responses are `{ error, response }` without throwOnError, the error body parsed, no data', async () => {
    server.inject(ROUTE, json(404, { error: { message: 'No such customer' } }));
    const result = await getCustomer(false);
    expect(result.data).toBeUndefined();
    expect(result.error).toStrictEqual({ error: { message: 'No such customer' } });
    expect(result.response.status).toBe(404);
    // The response is the real one, not a stand-in.
    expect(result.response.url).toBe(`${server.url}/customers/cus_1`);
    expect(result.response.headers.get('content-type')).toBe('application/json');
  });

  it('the request id is read from the header the provider uses, and is absent when none is sent', async () => {
    for (const header of ['request-id', 'x-correlation-id', 'x-amzn-requestid']) {
      server.inject(ROUTE, json(404, { error: { message: 'gone' } }, { [header]: `id-from-${header}` }));
      expect(await rejectionOf(getCustomer(true))).toMatchObject({ requestId: `id-from-${header}` });
    }
    server.inject(ROUTE, json(404, { error: { message: 'gone' } }));
    const error = (await rejectionOf(getCustomer(true))) as NotFoundError;
    expect(error.requestId).toBeUndefined();
    expect(error.message).toBe('GET /customers/{id} failed with HTTP 404: gone');
  });

  it('the path is the template, whatever the parameters', async () => {
    server.inject('POST /v2/organization/4821/expert/jdoe/tagline', json(400, { success: false, msg: 'tagline too long' }));
    const client = expertfile.createClient({ baseUrl: `${server.url}/v2`, throwOnError: true });
    const error = await rejectionOf(
      client.POST('/organization/{corporation}/expert/{username}/tagline', {
        params: { path: { corporation: 4821, username: 'jdoe' } },
        body: { tagline: 'x'.repeat(500) },
      } as never),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      method: 'POST',
      path: '/organization/{corporation}/expert/{username}/tagline',
      body: { msg: 'tagline too long' },
    });
  });

  it('a body field named like a credential is intact on `body` but redacted when printed', async () => {
    server.inject(ROUTE, json(401, { error: { message: 'expired' }, access_token: 'at-leaked-by-server-123' }));
    const error = (await rejectionOf(getCustomer(true))) as AuthenticationError<{ access_token: string }>;
    expect(error.body.access_token).toBe('at-leaked-by-server-123');
    expect(inspect(error, { depth: Infinity })).not.toContain('at-leaked-by-server-123');
    expect(JSON.stringify(error)).not.toContain('at-leaked-by-server-123');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      name: 'AuthenticationError',
      code: 'authentication_failed',
      status: 401,
      body: { access_token: '[redacted]' },
    });
  });

  it('a transport failure is its own class with a stable code', async () => {
    const closed = await startServer();
    const url = closed.url;
    await closed.close();
    const client = finexer.createClient({ baseUrl: url, maxRetries: 0, throwOnError: true });
    const error = await rejectionOf(client.GET('/customers/{id}', { params: { path: { id: 'cus_1' } } }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'connection_error', method: 'GET', path: '/customers/{id}' });
  });
});

describe('typed errors: failure envelopes at HTTP 200', () => {
  const EXPERT = 'GET /v2/organization/4821/expert/jdoe';
  const getExpert = <T extends boolean>(throwOnError: T) =>
    expertfile
      .createClient({ baseUrl: `${server.url}/v2`, throwOnError })
      .GET('/organization/{corporation}/expert/{username}', { params: { path: { corporation: 4821, username: 'jdoe' } } });

  it('ExpertFile `success: false` is `{ error }`, never data', async () => {
    server.inject(EXPERT, json(200, { success: false, msg: 'Expert not found' }));
    const result = await getExpert(false);
    expect(result.data).toBeUndefined();
    expect(result.error).toStrictEqual({ success: false, msg: 'Expert not found' });
    expect(result.response.status).toBe(200);
  });

  it('ExpertFile `success: false` throws EnvelopeError in the throwing style', async () => {
    server.inject(EXPERT, json(200, { success: false, msg: 'Expert not found' }, { 'x-request-id': 'req-env' }));
    const error = await rejectionOf(getExpert(true));
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error).toMatchObject({
      code: 'envelope_failure',
      status: 200,
      method: 'GET',
      path: '/organization/{corporation}/expert/{username}',
      requestId: 'req-env',
      body: { success: false, msg: 'Expert not found' },
    });
    expect((error as Error).message).toContain('Expert not found');
  });

  const DAPI = 'POST /v2/data/balance/get';
  const getBalance = <T extends boolean>(throwOnError: T) =>
    dapi
      .createClient({ baseUrl: `${server.url}/v2`, auth: { accessToken: 'dapi-token' }, throwOnError })
      .POST('/data/balance/get', { body: { appSecret: 'app-secret-x', userSecret: 'user-secret-x', accountID: 'acc_1' } });

  it.each([
    ['success: false', { success: false, status: 'failed', type: 'BANK_ERROR', msg: 'The bank is not responding' }],
    [
      'status: "failed" (success: true)',
      { success: true, status: 'failed', type: 'INVALID_CREDENTIALS', msg: 'Wrong username or password' },
    ],
    ['success: false without a status', { success: false, type: 'UNAUTHORIZED', msg: 'Invalid app secret' }],
  ])('Dapi %s is `{ error }`, never data', async (_name, body) => {
    server.inject(DAPI, json(200, body));
    const result = await getBalance(false);
    expect(result.data).toBeUndefined();
    expect(result.error).toStrictEqual(body);
  });

  it('Dapi failures throw EnvelopeError with the provider code and message', async () => {
    server.inject(DAPI, json(200, { success: true, status: 'failed', type: 'INVALID_CREDENTIALS', msg: 'Wrong username or password' }));
    const error = await rejectionOf(getBalance(true));
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error).toMatchObject({
      code: 'envelope_failure',
      providerCode: 'INVALID_CREDENTIALS',
      status: 200,
      method: 'POST',
      path: '/data/balance/get',
    });
    expect((error as Error).message).toBe('POST /data/balance/get failed with HTTP 200: Wrong username or password');
  });

  it('a successful Dapi answer is data', async () => {
    const body = { success: true, status: 'done', operationID: 'op-1', balance: { amount: 12.5, accountNumber: '001' } };
    server.inject(DAPI, json(200, body));
    const result = await getBalance(true);
    expect(result.data).toStrictEqual(body);
    expect(result.error).toBeUndefined();
  });
});
