// startMock's server against what a local process can write on its socket:
// every request gets an answer or a closed connection, never the end of the
// process serving the mock.
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MockError, startMock } from '../src/index.js';

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
    const { host } = new URL(mock.url);
    const cases: [string, RegExp][] = [
      ['GET /fdx/v4/accounts HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 421 /],
      ['GET /fdx/v4/accounts HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 421 /],
      [`TRACE / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, /^HTTP\/1\.1 405 /],
      // A method node:http does not know is its own 400.
      [`TRACK / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, /^HTTP\/1\.1 400 /],
      [`GET http://elsewhere.example/fdx/v4/accounts HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, /^HTTP\/1\.1 400 /],
      [`OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, /^HTTP\/1\.1 400 /],
      [`GET / HTTP/1.1\r\nHost: ${host}\r\nX-A: \xff\xfe\r\nConnection: close\r\n\r\n`, /^HTTP\/1\.1 404 /],
    ];
    for (const [raw, status] of cases) expect(await rawRequest(mock.url, raw), raw.split('\r\n')[0]).toMatch(status);
    expect((await fetch(`${mock.url}/fdx/v4/accounts`)).status).toBe(401);
  });
});

describe('a header queued with respond()', () => {
  // Any characters, and the ones where fetch and node:http disagree: control characters, CR and LF, U+0080-U+00FF, past U+00FF.
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom('a\nb', 'a\rb', 'a\u0001b', 'a\u007fb', '\u00e9t\u00e9', 'a\u0100b', ' x ', 'a\tb', '', 'x-trace', 'x trace', 'x:y'),
  );

  it('is refused with invalid_option, or answered as queued by the handler and by the server alike', async () => {
    await using mock = await startMock('expertfile');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const { clientId, clientSecret } = mock.client;
    const signIn = await fetch(`${mock.url}/v2/oauth/token`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });
    const bearer = { authorization: `Bearer ${((await signIn.json()) as { data: { accessToken: string } }).data.accessToken}` };
    const url = `${mock.url}/v2/organization/1/expert`;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), text), text, async (name, value) => {
        try {
          mock.controller.respond('listExperts', { headers: { [name]: value } }, { times: 2 });
        } catch (error) {
          expect(error).toBeInstanceOf(MockError);
          expect(error).toMatchObject({ code: 'invalid_option' });
          refused += 1;
          return;
        }
        const direct = await mock.handle(new Request(url, { headers: bearer }));
        const served = await fetch(url, { headers: bearer });
        for (const response of [direct, served]) {
          expect(response.status).toBe(200);
          expect(response.headers.get(name)).toBe(value.trim());
        }
      }),
      { numRuns: 200, seed: 3 },
    );
    // Both kinds ran.
    expect(refused).toBeGreaterThan(10);
    expect(refused).toBeLessThan(190);
  });
});

describe('a request from a page on another host (DNS rebinding)', () => {
  /** A request with the Host and Origin a browser would send; the status it got. */
  const send = (url: string, path: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const { port } = new URL(url);
      request({ host: '127.0.0.1', port, path, headers }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
        .on('error', reject)
        .end();
    });

  it('is refused (421 for a foreign Host, 403 for a foreign Origin), reaches no fault or log, and loopback pages are served', async () => {
    await using mock = await startMock('finexer');
    const { port } = new URL(mock.url);
    mock.controller.fail('listCustomers', { kind: 'server-error' });
    expect(await send(mock.url, '/customers', { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(421);
    expect(await send(mock.url, '/customers', { host: `127.0.0.1:${port}`, origin: 'https://evil.example' })).toBe(403);
    expect(await send(mock.url, '/customers', { host: `127.0.0.1:${port}`, origin: 'null' })).toBe(403);
    expect(await send(mock.url, '/customers', { host: `127.0.0.1.evil.example:${port}` })).toBe(421);
    expect(mock.controller.requests).toEqual([]);
    // The test's own request still meets the fault it queued.
    expect((await fetch(`${mock.url}/customers`)).status).toBe(500);
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'https://app.localhost', 'http://[::1]:8080'])
      expect(await send(mock.url, '/customers', { host: `localhost:${port}`, origin }), origin).toBe(401);
    expect(mock.controller.requests).toHaveLength(5);
  });
});

describe('startMock on a port another server holds', () => {
  it('is MockError port_in_use, with the listen error as its cause', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const error = await startMock('fdx', { port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MockError);
      expect(error).toMatchObject({ code: 'port_in_use', message: `port ${port} on 127.0.0.1 is in use`, cause: { code: 'EADDRINUSE' } });
    } finally {
      taken.close();
    }
  });
});
