// Defect 8: a status the Response constructor refuses (600 or more) is a
// typed error, never a raw RangeError.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { ResponseParseError } from '../../src/index.ts';
import { rejectionOf } from '../helpers.ts';

describe('a status outside 100-599', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(999, { 'content-type': 'application/json' });
      res.end('{"error":"odd"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([false, true])('HTTP 999 is a ResponseParseError (throwOnError: %s), and is not retried', async (throwOnError) => {
    hits = 0;
    const client = finexer.createClient({ baseUrl: url, auth: { accessToken: 'static-token-0123456789' }, throwOnError, maxRetries: 2 });
    const error = await rejectionOf(client.GET('/customers', {}));
    expect(error).toBeInstanceOf(ResponseParseError);
    expect(error).toMatchObject({ code: 'response_parse_error', status: 999 });
    expect((error as Error).message).toContain('999');
    expect(hits).toBe(1);
  });
});
