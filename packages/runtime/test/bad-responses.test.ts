// Group 1: one table of hostile or broken responses, run against every
// provider's generated client through a loopback server. Each case must end
// in its typed error (class and stable code), quickly, and without any
// credential the server echoed back reaching the error or the log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dapi from '../../dapi/src/index.ts';
import * as dexero from '../../dexero-fd/src/index.ts';
import * as expertfile from '../../expertfile/src/index.ts';
import * as fdx from '../../fdx/src/index.ts';
import * as finexer from '../../finexer/src/index.ts';
import { DexeroFdEmulator } from '../../testing/src/emulators/dexero-fd.ts';
import { ExpertFileEmulator } from '../../testing/src/emulators/expertfile.ts';
import type { LoopbackServer, RecordedRequest, Reply } from '../../testing/src/http.ts';
import {
  type ApiError,
  BadRequestError,
  ResponseParseError,
  ResponseTooLargeError,
  ResponseValidationError,
  ServerError,
} from '../src/index.ts';
import { canary, expectNoSecretsIn, MemoryLogger, rejectionOf, renderings, startServer } from './helpers.ts';

const CLIENT_TIMEOUT_MS = 5_000;
const TEST_TIMEOUT_MS = 15_000;

interface Harness {
  server: LoopbackServer;
  /** The route the operation reaches on the server ("GET /customers"). */
  route: string;
  /** Calls the operation once; rejects with the error under test. */
  call(): Promise<unknown>;
  logger: MemoryLogger;
  /** Credentials the client holds or sends; the access token of a client-credentials grant is added when the server sees it. */
  secrets: string[];
  /** The operation declares an XML representation. */
  xml: boolean;
}

type Setup = () => Promise<Harness>;

const common = (logger: MemoryLogger) => ({
  timeout: CLIENT_TIMEOUT_MS,
  maxRetries: 0,
  throwOnError: true as const,
  logger,
  logLevel: 'debug' as const,
});

const providers: Record<string, Setup> = {
  'dexero-fd': async () => {
    const secret = canary('dexero-client-secret');
    const server = await new DexeroFdEmulator({ clientId: 'fd-client', clientSecret: secret }).start();
    const logger = new MemoryLogger();
    const client = dexero.createClient({
      ...common(logger),
      baseUrl: server.apiBaseUrl,
      auth: { clientId: 'fd-client', clientSecret: secret, tokenUrl: server.tokenUrl },
    });
    return {
      server,
      logger,
      route: 'GET /services/v6/rest/records.json',
      secrets: [secret],
      xml: true,
      call: () => client.GET('/records.{format}', {}),
    };
  },
  expertfile: async () => {
    const secret = canary('expertfile-client-secret');
    const server = await new ExpertFileEmulator({ clientId: 'ef-client', clientSecret: secret }).start();
    const logger = new MemoryLogger();
    const client = expertfile.createClient({
      ...common(logger),
      baseUrl: server.apiBaseUrl,
      auth: { clientId: 'ef-client', clientSecret: secret, tokenUrl: server.tokenUrl },
    });
    return {
      server,
      logger,
      route: `GET /v2/organization/${server.organization}/expert`,
      secrets: [secret],
      xml: false,
      call: () => client.GET('/organization/{corporation}/expert', { params: { path: { corporation: server.organization } } }),
    };
  },
  fdx: async () => {
    const token = canary('fdx-access-token');
    const server = await startServer();
    const logger = new MemoryLogger();
    const client = fdx.createClient({ ...common(logger), baseUrl: `${server.url}/fdx/v4`, auth: { accessToken: token } });
    return { server, logger, route: 'GET /fdx/v4/accounts', secrets: [token], xml: false, call: () => client.GET('/accounts', {}) };
  },
  finexer: async () => {
    const token = canary('finexer-access-token');
    const server = await startServer();
    const logger = new MemoryLogger();
    const client = finexer.createClient({ ...common(logger), baseUrl: server.url, auth: { accessToken: token } });
    return { server, logger, route: 'GET /customers', secrets: [token], xml: false, call: () => client.GET('/customers', {}) };
  },
  dapi: async () => {
    const token = canary('dapi-access-token');
    const appSecret = canary('dapi-app-secret');
    const userSecret = canary('dapi-user-secret');
    const server = await startServer();
    const logger = new MemoryLogger();
    const client = dapi.createClient({ ...common(logger), baseUrl: `${server.url}/v2`, auth: { accessToken: token } });
    return {
      server,
      logger,
      route: 'POST /v2/data/accounts/get',
      secrets: [token, appSecret, userSecret],
      xml: false,
      call: () => client.POST('/data/accounts/get', { body: { appSecret, userSecret } }),
    };
  },
};

/** What a careless server puts in a body: the credentials it received, raw. */
function echoOf(request: RecordedRequest, secrets: readonly string[]): string {
  return `received authorization=${request.headers.authorization ?? ''} body=${request.body} known=${secrets.join(',')}`;
}
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const echoHeaders = (request: RecordedRequest, secrets: readonly string[]) => ({
  'x-echo-authorization': request.headers.authorization ?? '',
  'x-echo-secrets': secrets.join(','),
});

const TEN_MB = 10 * 1024 * 1024;
const hugeJson = `{"records":[],"padding":"${'x'.repeat(TEN_MB)}"}`;

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<recordList><records><record id="1"><firstName>&lol9;</firstName></record></records></recordList>`;

interface Case {
  name: string;
  /** Only for operations with (true) or without (false) an XML representation. */
  xml?: boolean;
  reply(echo: string, request: RecordedRequest, secrets: readonly string[]): Reply;
  error: new (...args: never[]) => Error;
  code: string;
  /** Further checks on the error. */
  check?(error: any, xml: boolean): void;
}

const parseError = (status: number, contentType: string) => (error: ResponseParseError) => {
  expect(error.status).toBe(status);
  expect(error.contentType).toBe(contentType);
  // The message names status and content type, so a proxy page is recognisable in a log.
  expect(error.message).toContain(`HTTP ${status}`);
  expect(error.message).toContain(contentType);
  expect(error.message.length).toBeLessThan(1_000);
};

const cases: Case[] = [
  {
    name: 'truncated JSON',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/json', ...echoHeaders(r, s) },
      body: `{"records":[{"id":1,"note":${JSON.stringify(echo)},"firstName":"Mar`,
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e) => {
      parseError(200, 'application/json')(e);
      expect(e.message).toContain('invalid JSON');
      expect(e.cause).toBeUndefined();
    },
  },
  {
    name: 'wrong content type (text/plain where JSON is declared)',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...echoHeaders(r, s) },
      body: `OK ${echo}`,
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: parseError(200, 'text/plain; charset=utf-8'),
  },
  {
    name: 'HTML 502 page from a proxy',
    reply: (echo, r, s) => ({
      status: 502,
      headers: { 'content-type': 'text/html', ...echoHeaders(r, s) },
      body: `<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<!-- upstream request: ${echo} -->\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    }),
    // A failed response like any other: the status's ApiError, the page as its body.
    error: ServerError,
    code: 'server_error',
    check: (e: ApiError) => {
      expect(e.status).toBe(502);
      expect(e.message).toContain('502 Bad Gateway');
      expect(e.message.length).toBeLessThan(1_000);
    },
  },
  {
    name: 'invalid UTF-8',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', ...echoHeaders(r, s) },
      body: Buffer.concat([
        Buffer.from('{"records":[],"note":"'),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from(echo.replace(/"/g, "'")),
        Buffer.from('"}'),
      ]),
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e) => {
      parseError(200, 'application/json; charset=utf-8')(e);
      expect(e.message).toContain('not valid UTF-8');
    },
  },
  {
    name: '10 MB body, streamed (chunked, no Content-Length)',
    reply: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: hugeJson }),
    error: ResponseTooLargeError,
    code: 'response_too_large',
    check: (e) => expect(e.limitBytes).toBe(8 * 1024 * 1024),
  },
  {
    name: '10 MB body, Content-Length declared',
    reply: () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(hugeJson)) },
      body: hugeJson,
    }),
    error: ResponseTooLargeError,
    code: 'response_too_large',
  },
  {
    name: '10 MB error body (HTTP 500)',
    reply: () => ({ status: 500, headers: { 'content-type': 'application/json' }, body: hugeJson }),
    error: ResponseTooLargeError,
    code: 'response_too_large',
    check: (e) => expect(e.status).toBe(500),
  },
  {
    name: 'missing required fields',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/json', ...echoHeaders(r, s) },
      body: JSON.stringify({ note: echo }),
    }),
    error: ResponseValidationError,
    code: 'response_shape_mismatch',
    check: (e) => {
      expect(e.status).toBe(200);
      expect(e.problems.length).toBeGreaterThan(0);
      expect(e.problems.every((p: string) => p.endsWith('is missing'))).toBe(true);
    },
  },
  {
    name: 'an array where the spec promises an object',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/json', ...echoHeaders(r, s) },
      body: JSON.stringify([echo]),
    }),
    error: ResponseValidationError,
    code: 'response_shape_mismatch',
    check: (e) => expect(e.problems).toEqual(['body is not an object']),
  },
  {
    name: 'XML billion-laughs document',
    reply: (_echo, r, s) => ({ status: 200, headers: { 'content-type': 'application/xml', ...echoHeaders(r, s) }, body: BILLION_LAUGHS }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e, xml) => {
      parseError(200, 'application/xml')(e);
      // Where XML is declared the parser itself refuses the entity declarations; elsewhere XML is not even parsed.
      expect(e.message).toContain(xml ? 'DOCTYPE and entity declarations are refused' : 'expected JSON');
    },
  },
  {
    name: 'XML with an external entity (XXE)',
    xml: true,
    reply: (_echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/xml', ...echoHeaders(r, s) },
      body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><recordList><records><record id="1"><firstName>&xxe;</firstName></record></records></recordList>',
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e) => {
      expect(e.message).toContain('DOCTYPE and entity declarations are refused');
      expect(e.message).not.toContain('root:');
    },
  },
  {
    name: 'XML referring to an undeclared entity',
    xml: true,
    reply: (_echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/xml', ...echoHeaders(r, s) },
      body: '<recordList><records><record id="1"><firstName>&lol9;</firstName></record></records></recordList>',
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
  },
  {
    name: 'malformed XML',
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/xml', ...echoHeaders(r, s) },
      body: `<?xml version="1.0"?><recordList><records><record id="1"><note>${escapeXml(echo)}</note></records></recordList>`,
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e) => parseError(200, 'application/xml')(e),
  },
  {
    name: 'well-formed XML where only JSON is declared',
    xml: false,
    reply: (echo, r, s) => ({
      status: 200,
      headers: { 'content-type': 'application/xml', ...echoHeaders(r, s) },
      // Carries every field each shape requires, so only the media type is wrong.
      body: `<?xml version="1.0"?><root><success>true</success><accounts></accounts><data><experts></experts><total>0</total></data><count>0</count><paging><total>0</total></paging><note>${escapeXml(echo)}</note></root>`,
    }),
    error: ResponseParseError,
    code: 'response_parse_error',
    check: (e) => {
      parseError(200, 'application/xml')(e);
      expect(e.message).toContain('expected JSON, got application/xml');
    },
  },
  {
    name: 'an error body echoing the request (HTTP 400)',
    reply: (echo, r, s) => ({
      status: 400,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-400', ...echoHeaders(r, s) },
      body: JSON.stringify({ success: false, msg: echo, message: echo, error: echo, detail: { echo } }),
    }),
    error: BadRequestError,
    code: 'bad_request',
    check: (e: ApiError) => {
      expect(e.status).toBe(400);
      expect(e.requestId).toBe('req-400');
    },
  },
];

let total = 0;

for (const [slug, setup] of Object.entries(providers)) {
  describe(`bad responses: ${slug}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(() => h?.server.close());

    const applicable = cases.filter((c) => c.xml === undefined || c.xml === (slug === 'dexero-fd'));
    it.each(applicable.map((c) => [c.name, c] as const))(
      '%s',
      async (_name, c) => {
        h.server.reset();
        h.logger.lines.length = 0;
        const secrets = [...h.secrets];
        h.server.inject(h.route, (request) => {
          const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
          if (bearer && !secrets.includes(bearer)) secrets.push(bearer);
          return c.reply(echoOf(request, secrets), request, secrets);
        });
        const error = await rejectionOf(h.call());
        expect(error, inspect(error)).toBeInstanceOf(c.error);
        expect((error as { code: string }).code).toBe(c.code);
        c.check?.(error, h.xml);
        // The operation was reached once, with a token, so the echo really held one.
        const reached = h.server.requests.filter((r) => `${r.method} ${r.path}` === h.route);
        expect(reached).toHaveLength(1);
        expect(secrets.some((s) => reached[0]!.headers.authorization === `Bearer ${s}`)).toBe(true);
        expectNoSecretsIn(renderings(error), secrets, 'the error');
        expectNoSecretsIn(h.logger.texts(), secrets, 'the log');
        total++;
      },
      TEST_TIMEOUT_MS,
    );
  });
}

afterAll(() => {
  console.log(`bad responses: ${total} provider × case checks passed`);
});

describe('bad responses: endless bodies', () => {
  // A server (or a broken proxy) that never stops sending: refused at
  // maxResponseBytes, whatever the status, long before the timeout.
  let raw: Server;
  let url: string;
  beforeAll(async () => {
    raw = createServer((req, res) => {
      res.writeHead(req.url!.includes('500') ? 500 : 200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      res.write('{"data":[');
      pump();
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    raw.closeAllConnections();
    await new Promise((resolve) => raw.close(resolve));
  });

  it.each([200, 500])(
    'an endless HTTP %i body is a ResponseTooLargeError at maxResponseBytes',
    async (status) => {
      const client = finexer.createClient({ baseUrl: url, maxRetries: 0, timeout: 10_000, maxResponseBytes: 1024 * 1024 });
      const error = await rejectionOf(client.GET('/customers/{id}', { params: { path: { id: String(status) } } }));
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect(error).toMatchObject({ code: 'response_too_large', status, limitBytes: 1024 * 1024 });
    },
    TEST_TIMEOUT_MS,
  );
});
