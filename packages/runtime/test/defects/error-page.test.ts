// Decision: an error status whose body is not what the spec declares (an
// HTML page from a proxy) is a failed response like any other: `{ error }`
// with the body as text, or with throwOnError the status's ApiError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { ServerError } from '../../src/index.ts';
import { rejectionOf, startServer, type TestServer } from '../helpers.ts';

const PAGE = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';

describe('a 5xx HTML page', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    server.on('GET /customers', () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: PAGE }));
  });
  afterAll(() => server.close());

  it('comes back as { error } on a non-throwing client', async () => {
    const client = finexer.createClient({ baseUrl: server.url, auth: { accessToken: 'static-token-0123456789' }, maxRetries: 0 });
    const { data, error, response } = await client.GET('/customers', {});
    expect(data).toBeUndefined();
    expect(error).toBe(PAGE);
    expect(response.status).toBe(502);
  });

  it('throws ServerError with throwOnError', async () => {
    const client = finexer.createClient({
      baseUrl: server.url,
      auth: { accessToken: 'static-token-0123456789' },
      maxRetries: 0,
      throwOnError: true,
    });
    const error = await rejectionOf(client.GET('/customers', {}));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'server_error', status: 502, body: PAGE });
    expect((error as Error).message).toContain('502 Bad Gateway');
  });
});
