// Defect 1: maxResponseBytes counts the bytes the caller would get, i.e. the
// decoded body. A gzip body declares its compressed size, which fetch then
// inflates transparently: the limit must hold whatever the headers say.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { ResponseTooLargeError } from '../../src/index.ts';
import { rejectionOf, startServer, type TestServer } from '../helpers.ts';

const MIB = 1024 * 1024;
// 50 MiB of JSON that gzips to about 50 KB.
const bomb = gzipSync(Buffer.from(`{"data":[],"count":0,"paging":{"total":0},"padding":"${' '.repeat(50 * MIB)}"}`));

describe('maxResponseBytes and content-encoding', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it.each([200, 500])('a gzip body of 50 MiB (%i, Content-Length is the compressed size) is refused at 1 MiB', async (status) => {
    expect(bomb.length).toBeLessThan(MIB);
    server.reset();
    server.on('GET /customers', () => ({
      status,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) },
      body: bomb,
    }));
    const client = finexer.createClient({
      baseUrl: server.url,
      auth: { accessToken: 'static-token-0123456789' },
      maxResponseBytes: MIB,
      maxRetries: 0,
    });
    const error = await rejectionOf(client.GET('/customers', {}));
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toMatchObject({ code: 'response_too_large', status, limitBytes: MIB });
  });

  it('a small gzip body within the limit is read', async () => {
    server.reset();
    const small = gzipSync(Buffer.from('{"data":[],"count":0,"paging":{"total":0}}'));
    server.on('GET /customers', () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(small.length) },
      body: small,
    }));
    const client = finexer.createClient({
      baseUrl: server.url,
      auth: { accessToken: 'static-token-0123456789' },
      maxResponseBytes: MIB,
      maxRetries: 0,
    });
    const { data } = await client.GET('/customers', {});
    expect(data).toEqual({ data: [], count: 0, paging: { total: 0 } });
  });
});
