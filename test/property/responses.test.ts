// Responses by content type, status and redirect, through two generated
// clients (Finexer: JSON; Dexero FD: JSON or XML by representation) with an
// in-memory fetch. Any response ends in { data } / { error } or a typed
// error with a stable code, within a bound; the token and client secret
// never reach an error or a log line, nor any origin but the API's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as dexero from '../../packages/dexero-fd/src/index.ts';
import * as finexer from '../../packages/finexer/src/index.ts';
import { anyText, canary, expectNoCanary, expectPorticoError, group, memoryLogger, outcome, renderings, secretTail } from './support.ts';

const g = group('responses');

const API_CODES = [
  'api_error',
  'bad_request',
  'authentication_failed',
  'permission_denied',
  'not_found',
  'conflict',
  'rate_limited',
  'server_error',
  'envelope_failure',
];
const CODES = [...API_CODES, 'response_parse_error', 'response_too_large', 'response_shape_mismatch', 'connection_error', 'timeout'];
const API = 'https://api.example.test';
const ELSEWHERE = 'https://elsewhere.example.test';
const NULL_BODY = new Set([204, 205, 304]);

const status = fc.oneof(
  fc.constantFrom(200, 201, 204, 301, 302, 303, 307, 308, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 600, 999),
  fc.integer({ min: 200, max: 599 }),
);
const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/problem+json',
    'application/xml',
    'text/xml; charset=utf-8',
    'text/html',
    'text/plain',
    '',
    'application/octet-stream',
  ),
  anyText(30),
);
const xmlDoc = fc.constantFrom(
  '<?xml version="1.0"?><recordList><records><record id="1"><firstName>Marie</firstName></record></records></recordList>',
  '<recordList><records/></recordList>',
  '<error><code>401</code><message>no</message></error>',
  '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
  '<recordList><records><record id="x"/></records></recordList>',
  '<a><b>&toString;</b></a>',
);
/** A body; `echo` stands for the credentials the server received, which a careless one repeats. */
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '{"data":[],"count":0,"paging":{"total":0}}',
    '{"records":[]}',
    '{"error":{"message":"ECHO"}}',
    '{"error":"invalid_token","error_description":"ECHO"}',
  ),
  xmlDoc,
  fc.constantFrom('<html><body><h1>502 Bad Gateway</h1><!-- ECHO --></body></html>', 'ECHO', ''),
  anyText(120),
  fc.uint8Array({ maxLength: 120 }),
  fc.integer({ min: 1, max: 6 }).map((k) => `{"pad":"${'x'.repeat(k * 1024)}"}`),
);
const location = fc.oneof(
  fc.constant(`${API}/customers`),
  fc.constant(`${ELSEWHERE}/moved`),
  fc.constant('/moved'),
  fc.constant('//elsewhere.example.test/x'),
  anyText(40),
);

interface Reply {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  location: string;
}
const reply = fc.record({ status, contentType, body, location });

/** A Response from generated parts; a reply fetch itself could not produce (a header Headers refuses) is skipped. */
function responseOf(r: Reply, echo: string): Response | undefined {
  const headers = new Headers();
  try {
    if (r.contentType) headers.set('content-type', r.contentType);
    if (r.status >= 300 && r.status < 400) headers.set('location', r.location);
  } catch {
    return undefined;
  }
  // A JSON server echoes what it got JSON-escaped; anything else, as it came.
  const echoed = (body: string) => body.replace('ECHO', body.startsWith('{') ? JSON.stringify(echo).slice(1, -1) : echo);
  const content = NULL_BODY.has(r.status) ? null : typeof r.body === 'string' ? echoed(r.body) : r.body;
  const init = { status: Math.min(r.status, 599), headers };
  const response = new Response(content as BodyInit | null, init);
  // A status of 600 or more arrives from the network; Response cannot be built with one, so it is set as fetch would.
  if (r.status > 599) Object.defineProperty(response, 'status', { value: r.status });
  return response;
}

const clients: Record<'finexer' | 'dexero-fd json' | 'dexero-fd xml', (options: object) => Promise<unknown>> = {
  finexer: (options: object) => finexer.createClient({ baseUrl: API, ...options }).GET('/customers', {}),
  'dexero-fd json': (options: object) => dexero.createClient({ baseUrl: `${API}/rest`, ...options }).GET('/records.{format}', {}),
  'dexero-fd xml': (options: object) =>
    dexero.createClient({ baseUrl: `${API}/rest`, ...options }).GET('/records.{format}', { params: { path: { format: 'xml' } } }),
};

describe('property: response bodies by content type, statuses and redirects', () => {
  it.each(Object.keys(clients) as (keyof typeof clients)[])(
    '%s: any response is { data } / { error } or a typed error, and leaks nothing',
    async (name) => {
      const count = g.counter(name);
      await fc.assert(
        fc.asyncProperty(
          fc.array(reply, { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          fc.boolean(),
          secretTail,
          async (replies, throwOnError, clientCredentials, tail) => {
            // Finexer has no client-credentials grant: its clients hold a token.
            const credentials = clientCredentials && name !== 'finexer';
            const token = canary('token');
            const secret = canary('secret') + tail;
            const basic = btoa(`client:${new URLSearchParams({ v: secret }).toString().slice(2)}`);
            const log = memoryLogger();
            const leaks: string[] = [];
            let n = 0;
            const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
              const request = new Request(input, init);
              const carried = [...request.headers.values()].join(' ') + (init?.body === undefined ? '' : String(init.body));
              if (new URL(request.url).origin !== API && (carried.includes(token) || carried.includes(basic))) leaks.push(request.url);
              if (request.url.endsWith('/oauth/token'))
                return Response.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
              const next = replies[Math.min(n++, replies.length - 1)]!;
              return (
                responseOf(next, `${token} ${credentials ? secret : ''} ${carried}`) ??
                new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
              );
            };
            count();
            const secrets = credentials ? [token, secret] : [token];
            const auth = credentials
              ? { clientId: 'client', clientSecret: secret, tokenUrl: `${API}/oauth/token` }
              : { accessToken: token };
            const result = await outcome(
              () =>
                clients[name]({ auth, fetch, throwOnError, maxRetries: 0, maxResponseBytes: 4096, logger: log.logger, logLevel: 'debug' }),
              name,
            );
            if (result.ok) {
              const { response, data, error } = result.value as { response: Response; data?: unknown; error?: unknown };
              expect(response).toBeInstanceOf(Response);
              if (throwOnError) expect(response.ok).toBe(true);
              if (!response.ok) expect(data).toBeUndefined();
              if (response.ok && error === undefined) expect(response.status).toBeLessThan(300);
            } else {
              expectPorticoError(result.error, CODES);
              expectNoCanary(renderings(result.error), secrets, `${name}: the error`);
            }
            expectNoCanary(log.lines, secrets, `${name}: the log`);
            expect(leaks).toEqual([]);
          },
        ),
        g.params(400),
      );
    },
  );
});
