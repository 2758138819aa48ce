// startMock's server against what a local process can write on its socket:
// every request gets an answer or a closed connection, never the end of the
// process serving the mock.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startMock } from '../src/index.js';

/** Writes `raw` on a fresh connection and reads until the server closes it (bounded): the status line, or what ended it. */
function rawRequest(url: string, raw: string | Buffer): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let text = '';
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text.split('\r\n')[0] || 'closed without an answer'));
    socket.write(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  });
}

describe('startMock survives what a client writes', () => {
  it('a Host it cannot parse, a TRACE, an absolute or "*" target: an answer each, and it serves on', async () => {
    await using mock = await startMock('fdx');
    const cases: [string, RegExp][] = [
      ['GET /fdx/v4/accounts HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 401 /],
      ['GET /fdx/v4/accounts HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 401 /],
      ['TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 405 /],
      // A method node:http does not know is its own 400.
      ['TRACK / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET http://elsewhere.example/fdx/v4/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: \xff\xfe\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 404 /],
    ];
    for (const [raw, status] of cases) expect(await rawRequest(mock.url, raw), raw.split('\r\n')[0]).toMatch(status);
    expect((await fetch(`${mock.url}/fdx/v4/accounts`)).status).toBe(401);
  });
});
