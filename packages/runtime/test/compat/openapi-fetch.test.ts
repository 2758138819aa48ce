// openapi-fetch's documented options, middleware and response handling, each
// run on bare openapi-fetch and on a Portico client generated from the same
// spec, expecting the same request on the wire and the same result. Where
// Portico differs on purpose, the test pins Portico's behaviour and the
// runtime README's "Differences from openapi-fetch" gives the reason. The
// runtime-openapi-fetch-latest project runs this file against the newest
// openapi-fetch on npm too.
import { createRequire } from 'node:module';
import type { Middleware } from 'openapi-fetch';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConnectionError, ResponseParseError } from '../../src/index.ts';
import { expectNoSecretsIn, rejectionOf, renderings } from '../helpers.ts';
import { type AnyClient, CLIENTS, type Handler, type Options, observer, PATH_BASED, type Wire } from './fixture.ts';

type Make = (options?: Options, handler?: Handler) => { client: AnyClient; wire: Wire[]; byPath: () => AnyClient };
type Scenario = (make: Make) => Promise<unknown>;

function maker(kind: keyof typeof CLIENTS): Make {
  return (options = {}, handler) => {
    const { wire, fetch } = observer(handler);
    const client = CLIENTS[kind](options, fetch);
    return { client, wire, byPath: () => PATH_BASED[kind](client) };
  };
}

/** A call's result as a caller reads it, or what it threw. */
async function outcome(call: Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  try {
    const { data, error, response } = await call;
    return { data, error, status: response.status, headers: Object.fromEntries(response.headers) };
  } catch (thrown) {
    return { thrown: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : thrown };
  }
}

const tally = { same: 0, differs: 0 };

/** A behaviour openapi-fetch's docs or tests cover, and Portico matches. */
function same(name: string, scenario: Scenario): void {
  it(name, async () => {
    const expected = await scenario(maker('openapi-fetch'));
    expect(await scenario(maker('portico'))).toEqual(expected);
    tally.same++;
  });
}

/** A behaviour where Portico differs on purpose: what each does, pinned. */
function differs(name: string, scenario: Scenario, check: (bare: unknown, portico: unknown) => void): void {
  it(`${name} (differs on purpose)`, async () => {
    check(await scenario(maker('openapi-fetch')), await scenario(maker('portico')));
    tally.differs++;
  });
}

const one = { params: { path: { id: 1 } } };

afterAll(() => {
  const version =
    inject('openapiFetchLatest')?.version ?? (createRequire(import.meta.url)('openapi-fetch/package.json') as { version: string }).version;
  console.log(
    `openapi-fetch ${version}: ${tally.same} behaviours match on Portico's client, ${tally.differs} differ on purpose (packages/runtime/README.md)`,
  );
});

describe('client options', () => {
  same('baseUrl: a trailing slash is dropped, and a call may override it', async (make) => {
    const { client, wire } = make({ baseUrl: 'https://api.example.test/v1/' });
    await client.GET('/posts/{id}', one);
    await client.GET('/posts/{id}', { ...one, baseUrl: 'https://other.example.test/v2/' });
    return wire.map((w) => w.url);
  });

  same('headers: client, call and params.header merge, later wins, null removes', async (make) => {
    const { client, wire } = make({ headers: { 'x-client': 'c', 'x-both': 'client', 'x-gone': 'g' } });
    await client.GET('/posts/{id}', {
      params: { path: { id: 1 }, header: { 'x-param': 'p' } },
      headers: { 'x-both': 'call', 'x-gone': null, 'x-list': ['a', 'b'] },
    });
    return wire[0]!.headers;
  });

  same('querySerializer options at the client: array and object styles, explode', async (make) => {
    const { client, wire } = make({
      querySerializer: { array: { style: 'pipeDelimited', explode: false }, object: { style: 'form', explode: false } },
    });
    await client.GET('/posts', { params: { query: { tags: ['a', 'b c'], filter: { x: 1, y: 'z' } } } });
    return wire[0]!.url;
  });

  same("querySerializer at the call merges over the client's", async (make) => {
    const { client, wire } = make({ querySerializer: { array: { style: 'form', explode: false } } });
    await client.GET('/posts', {
      params: { query: { tags: ['a', 'b'], filter: { x: 1 } } },
      querySerializer: { object: { style: 'form', explode: true } },
    });
    return wire[0]!.url;
  });

  same('querySerializer as a function, at the client and at the call', async (make) => {
    const { client, wire } = make({ querySerializer: (query: Record<string, unknown>) => `client=${Object.keys(query).join('+')}` });
    await client.GET('/posts', { params: { query: { q: 'x' } } });
    await client.GET('/posts', { params: { query: { q: 'x' } }, querySerializer: () => 'call=1' });
    return wire.map((w) => w.url);
  });

  same('query: primitives, empty arrays and null or undefined values left out, deepObject by default', async (make) => {
    const { client, wire } = make();
    await client.GET('/posts', { params: { query: { q: 'a b', tags: [], filter: { x: 1, y: { z: 2 }.z } } } });
    await client.GET('/posts', { params: { query: { q: undefined, tags: null, filter: undefined } } });
    return wire.map((w) => w.url);
  });

  same("a querySerializer function's leading ? is not doubled", async (make) => {
    const { client, wire } = make({ querySerializer: () => '?from=function' });
    await client.GET('/posts', { params: { query: { q: 'x' } } });
    return wire[0]!.url;
  });

  same('querySerializer allowReserved keeps reserved characters as they are', async (make) => {
    const { client, wire } = make({ querySerializer: { allowReserved: true } });
    await client.GET('/posts', { params: { query: { q: 'a/b?c=d&e' } } });
    return wire[0]!.url;
  });

  same('pathSerializer at the client and at the call', async (make) => {
    const { client, wire } = make({
      pathSerializer: (path: string, params: Record<string, unknown>) => path.replace('{id}', `id-${params.id}`),
    });
    await client.GET('/posts/{id}', one);
    await client.GET('/posts/{id}', { ...one, pathSerializer: (path: string) => path.replace('{id}', 'call') });
    return wire.map((w) => w.url);
  });

  same('bodySerializer at the client, and a call’s over it', async (make) => {
    const { client, wire } = make({ bodySerializer: (body: unknown) => `client:${JSON.stringify(body)}` });
    await client.POST('/posts', { body: { id: 1, title: 't' } });
    await client.POST('/posts', { body: { id: 2, title: 't' }, bodySerializer: () => 'call' });
    return wire.map((w) => [w.body, w.headers['content-type']]);
  });

  same('a JSON body gets Content-Type application/json, no body gets none, a given one wins', async (make) => {
    const { client, wire } = make({}, () => Response.json({ id: 1, title: 't' }, { status: 201 }));
    await client.POST('/posts', { body: { id: 1, title: 't' } });
    await client.GET('/posts/{id}', one);
    await client.POST('/posts', { body: { id: 1, title: 't' }, headers: { 'content-type': 'application/merge-patch+json' } });
    return wire.map((w) => [w.body, w.headers['content-type']]);
  });

  same('no body, or an undefined one: nothing is sent and no serializer runs, whatever the method', async (make) => {
    let serialized = 0;
    const { client, wire } = make({ bodySerializer: () => `${++serialized}` }, () => new Response(null, { status: 204 }));
    for (const method of ['PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'] as const) {
      const path = method === 'POST' ? '/posts' : '/posts/{id}';
      await client[method](path, { ...one });
      await client[method](path, { ...one, body: undefined });
    }
    return [serialized, wire.map((w) => w.body)];
  });

  same('falsy bodies are sent: 0, false, the empty string, null', async (make) => {
    const { client, wire } = make({}, () => Response.json({ id: 1, title: 't' }, { status: 201 }));
    for (const body of [0, false, '', null]) await client.POST('/posts', { body });
    return wire.map((w) => [w.body, w.headers['content-type']]);
  });

  same('a form content type makes the default serializer form-encode', async (make) => {
    const { client, wire } = make({}, () => Response.json({ id: 1, title: 't' }, { status: 201 }));
    await client.POST('/posts', {
      body: { key1: 'value1', key2: 'value 2' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    return [wire[0]!.body, wire[0]!.headers['content-type']];
  });

  same('a Cookie header goes out as given', async (make) => {
    const { client, wire } = make();
    await client.GET('/posts/{id}', { ...one, credentials: 'include', headers: { Cookie: 'session=1234' } });
    return wire[0]!.headers.cookie;
  });

  same("a call's unknown option reaches fetch beside the request", async (make) => {
    const { client, wire } = make();
    await client.GET('/posts/{id}', { ...one, customProperty: 'value' });
    return wire[0]!.initKeys.includes('customProperty');
  });

  same('a FormData body goes as multipart, its boundary set by fetch', async (make) => {
    const { client, wire } = make();
    const form = new FormData();
    form.set('title', 'hello');
    await client.POST('/posts', { body: form as never });
    return [wire[0]!.headers['content-type']?.startsWith('multipart/form-data; boundary='), wire[0]!.body?.includes('hello')];
  });

  same("fetch's own options at the client reach every request (credentials, cache, mode, keepalive)", async (make) => {
    const { client, wire } = make({ credentials: 'include', cache: 'no-store', mode: 'same-origin', keepalive: true });
    await client.GET('/posts/{id}', one);
    const [w] = wire;
    return [w!.credentials, w!.cache, w!.mode, w!.keepalive];
  });

  same("fetch's own options at the call win over the client's", async (make) => {
    const { client, wire } = make({ cache: 'no-store' });
    await client.GET('/posts/{id}', { ...one, cache: 'reload', credentials: 'omit' });
    return [wire[0]!.cache, wire[0]!.credentials];
  });

  same('requestInitExt (an undici dispatcher, say) reaches fetch', async (make) => {
    const dispatcher = { name: 'proxy-agent' };
    const { client, wire } = make({ requestInitExt: { dispatcher } });
    await client.GET('/posts/{id}', one);
    return wire[0]!.dispatcher === dispatcher;
  });

  it('requestInitExt reaches fetch while middleware is in use, and so does a call’s own dispatcher (openapi-fetch drops that one)', async () => {
    const dispatcher = { name: 'proxy-agent' };
    const perCall = { name: 'per-call' };
    const { client, wire } = maker('portico')({ requestInitExt: { dispatcher } });
    client.use({ onRequest: () => undefined });
    await client.GET('/posts/{id}', one);
    await client.GET('/posts/{id}', { ...one, dispatcher: perCall });
    client.eject();
    const lean = maker('portico')({ requestInitExt: { dispatcher } });
    await lean.client.GET('/posts/{id}', { ...one, dispatcher: perCall });
    expect([wire[0]!.dispatcher, wire[1]!.dispatcher, lean.wire[0]!.dispatcher]).toEqual([dispatcher, perCall, perCall]);
  });

  same('a Request class at the client makes every request', async (make) => {
    class SpecialRequest extends Request {}
    const { client, wire } = make({ Request: SpecialRequest });
    await client.GET('/posts/{id}', one);
    return wire[0]!.requestClass;
  });

  same("a call's Request class", async (make) => {
    class CallRequest extends Request {}
    const { client, wire } = make();
    await client.GET('/posts/{id}', { ...one, Request: CallRequest });
    return wire[0]!.requestClass;
  });

  same("a call's own fetch replaces the client's", async (make) => {
    const { client, wire } = make();
    const other = observer(() => Response.json({ id: 9, title: 'from the call' }));
    const result = await outcome(client.GET('/posts/{id}', { ...one, fetch: other.fetch }));
    return [wire.length, other.wire.length, result.data];
  });

  same("an aborted signal rejects with the signal's reason", async (make) => {
    const controller = new AbortController();
    controller.abort(new Error('the user left'));
    const { client } = make();
    return outcome(client.GET('/posts/{id}', { ...one, signal: controller.signal }));
  });
});

describe('path parameters and methods', () => {
  for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const)
    same(`${method} fills the path template and sends what the method allows`, async (make) => {
      const { client, wire } = make({}, (request) =>
        ['DELETE', 'OPTIONS'].includes(request.method) ? new Response(null, { status: 204 }) : Response.json({ id: 1, title: 'x' }),
      );
      const body = method === 'PUT' || method === 'PATCH' ? { body: { id: 1, title: 'x' } } : {};
      const result = await outcome(client[method]('/posts/{id}', { params: { path: { id: 42 } }, ...body }));
      return [wire[0]!.method, wire[0]!.url, wire[0]!.body, result.data, result.status];
    });

  same('request(method, path) is the same call as the method by name', async (make) => {
    const { client, wire } = make();
    const result = await outcome(client.request('get', '/posts/{id}', one));
    return [wire[0]!.method, result.data];
  });

  same('a path-based client makes the same calls', async (make) => {
    const { byPath, wire } = make();
    const client = byPath();
    const read = await outcome(client['/posts/{id}'].GET(one));
    const written = await outcome(client['/posts/{id}'].PUT({ ...one, body: { id: 1, title: 'x' } }));
    return [wire.map((w) => [w.method, w.url, w.body]), read.data, written.data];
  });

  same('path styles: simple, label and matrix, flat and exploded, of values and arrays', async (make) => {
    const { client, wire } = make();
    await client.GET('/styles/{simple}/{.label}/{;matrix}/{list*}/{.labels*}/{;matrices*}', {
      params: { path: { simple: 's', label: [1, 2], matrix: 'm', list: [3, 4], labels: [5, 6], matrices: [7, 8] } },
    });
    return wire[0]!.url;
  });

  differs(
    'an object as a path value',
    async (make) => {
      const { client, wire } = make();
      const result = await outcome(
        client.GET('/styles/{simple}/{.label}/{;matrix}/{list*}/{.labels*}/{;matrices*}', {
          params: { path: { simple: { a: 'b' }, label: 'l', matrix: 'm', list: 'x', labels: 'y', matrices: 'z' } },
        }),
      );
      return [wire.map((w) => w.url), result];
    },
    (bare, portico) => {
      // openapi-fetch writes an object's keys into the path unencoded (`{ '../..': '' }` moves the request); Portico refuses it.
      expect((bare as [string[]])[0]).toHaveLength(1);
      expect(portico).toMatchObject([[], { thrown: expect.stringMatching(/^ConfigurationError: path parameter simple must be/) }]);
    },
  );

  same('reserved characters in a path value are escaped, unreserved ones and UTF-8 as URLs want', async (make) => {
    const { client, wire } = make();
    for (const id of [';/?:@&=+$,# ', "aAzZ09-_.!~*'()", '🥴']) await client.GET('/posts/{id}', { params: { path: { id } } });
    return wire.map((w) => w.url);
  });

  same('path values are percent-encoded', async (make) => {
    const { client, wire } = make();
    await client.GET('/posts/{id}', { params: { path: { id: 'a b/c?d' } } });
    return wire[0]!.url;
  });
});

describe('middleware', () => {
  same('onRequest can change the request; it is given a Request, the schema path, the params and an id', async (make) => {
    const { client, wire } = make();
    const seen: unknown[] = [];
    client.use({
      onRequest({ request, schemaPath, params, id }: Parameters<NonNullable<Extract<Middleware, { onRequest: unknown }>['onRequest']>>[0]) {
        seen.push([request instanceof Request, schemaPath, params, typeof id === 'string' && id.length > 0]);
        request.headers.set('x-trace', 'trace-1');
        return request;
      },
    });
    await client.GET('/posts/{id}', one);
    return [seen, wire[0]!.headers['x-trace']];
  });

  same('onRequest can return another Request', async (make) => {
    const { client, wire } = make();
    client.use({ onRequest: ({ request }: { request: Request }) => new Request(`${request.url}?via=middleware`, request) });
    await client.GET('/posts/{id}', one);
    return wire[0]!.url;
  });

  same('onRequest can answer with a Response: fetch is not called, later onRequest and every onResponse are skipped', async (make) => {
    const { client, wire } = make();
    const calls: string[] = [];
    client.use(
      { onRequest: () => Response.json({ id: 7, title: 'cached' }), onResponse: () => void calls.push('first.onResponse') },
      { onRequest: () => void calls.push('second.onRequest') },
    );
    const result = await outcome(client.GET('/posts/{id}', one));
    return [wire.length, calls, result.data];
  });

  same('onResponse can replace the response, after reading its body: the caller gets the replacement', async (make) => {
    const { client } = make({}, () => Response.json({ id: 1, title: 'original' }, { headers: { 'x-server': 'yes' } }));
    client.use({
      async onResponse({ response }: { response: Response }) {
        const body = (await response.json()) as { title: string };
        const headers = new Headers(response.headers);
        headers.set('x-middleware', 'yes');
        return Response.json({ ...body, title: body.title.toUpperCase() }, { status: 201, headers });
      },
    });
    const result = await outcome(client.GET('/posts/{id}', one));
    return [result.data, result.status, result.headers?.['x-server'], result.headers?.['x-middleware']];
  });

  same('onResponse that reads a clone of the body changes nothing', async (make) => {
    const { client } = make();
    const read: unknown[] = [];
    client.use({
      async onResponse({ response }: { response: Response }) {
        read.push(await response.clone().json());
      },
    });
    const result = await outcome(client.GET('/posts/{id}', one));
    return [read, result.data];
  });

  differs(
    'onResponse that reads the body itself and returns nothing',
    async (make) => {
      const { client } = make();
      const read: unknown[] = [];
      client.use({
        async onResponse({ response }: { response: Response }) {
          read.push(await response.json());
        },
      });
      return [read, await outcome(client.GET('/posts/{id}', one))];
    },
    (bare, portico) => {
      // openapi-fetch then finds the body used; Portico gave the middleware a copy, and reads the original.
      expect(bare).toMatchObject([[{ id: 1, title: 'hello' }], { thrown: expect.stringMatching(/^TypeError: Body is unusable/) }]);
      expect(portico).toMatchObject([[{ id: 1, title: 'hello' }], { data: { id: 1, title: 'hello' }, status: 200 }]);
    },
  );

  same('onResponse sees an error body, and the caller gets it as the error', async (make) => {
    const { client } = make({}, () => Response.json({ code: 'not_found' }, { status: 404 }));
    const read: unknown[] = [];
    client.use({
      async onResponse({ response }: { response: Response }) {
        read.push(response.status, await response.clone().json());
      },
    });
    const result = await outcome(client.GET('/posts/{id}', one));
    return [read, result.error, result.status];
  });

  same('onRequest runs in the order middleware was added, onResponse in reverse; a call’s own run after the client’s', async (make) => {
    const { client } = make();
    const order: string[] = [];
    const named = (name: string): Middleware => ({
      onRequest: () => void order.push(`${name}.onRequest`),
      onResponse: () => void order.push(`${name}.onResponse`),
    });
    client.use(named('a'), named('b'));
    await client.GET('/posts/{id}', { ...one, middleware: [named('call')] });
    return order;
  });

  same("a call's middleware works on a client that has none", async (make) => {
    const { client, wire } = make();
    await client.GET('/posts/{id}', {
      ...one,
      middleware: [
        {
          onRequest: ({ request }: { request: Request }) => {
            request.headers.set('x-call', '1');
            return request;
          },
        },
      ],
    });
    return wire[0]!.headers['x-call'];
  });

  same('eject removes middleware; a skipped hook does not interrupt the call', async (make) => {
    const { client, wire } = make();
    const tag: Middleware = {
      onRequest: ({ request }) => {
        request.headers.set('x-tag', '1');
        return request;
      },
    };
    client.use(tag, { onResponse: () => undefined });
    await client.GET('/posts/{id}', one);
    client.eject(tag);
    const result = await outcome(client.GET('/posts/{id}', one));
    return [wire.map((w) => w.headers['x-tag']), result.data];
  });

  same('use refuses an object with no hook', async (make) => {
    const { client } = make();
    let thrown: unknown;
    try {
      client.use({ other: true });
    } catch (error) {
      thrown = (error as Error).message;
    }
    // Nothing was taken: calls go on as before.
    return [thrown, (await outcome(client.GET('/posts/{id}', one))).data];
  });

  same('middleware is given the options: baseUrl, parseAs and serializers', async (make) => {
    const { client } = make({ baseUrl: 'https://api.example.test/base' });
    let options: Record<string, unknown> = {};
    client.use({
      onRequest: (params: { options: Record<string, unknown> }) => {
        options = params.options;
      },
    });
    await client.GET('/posts/{id}', { ...one, parseAs: 'text' });
    return [options.baseUrl, options.parseAs, typeof options.querySerializer, typeof options.bodySerializer, typeof options.pathSerializer];
  });

  same('onError can answer with a Response', async (make) => {
    const { client } = make({}, () => {
      throw new TypeError('fetch failed');
    });
    client.use({ onError: () => Response.json({ id: 3, title: 'fallback' }) });
    const result = await outcome(client.GET('/posts/{id}', { ...one, maxRetries: 0 }));
    return [result.data, result.status];
  });

  same('onError can replace the error', async (make) => {
    const { client } = make({}, () => {
      throw new TypeError('fetch failed');
    });
    client.use({ onError: () => new Error('replaced') });
    return outcome(client.GET('/posts/{id}', { ...one, maxRetries: 0 }));
  });

  differs(
    'onError is given a ConnectionError whose cause is the failure, of its class, with its code',
    async (make) => {
      const failure = Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' }),
      });
      const { client } = make({}, () => {
        throw failure;
      });
      let seen: unknown;
      client.use({
        onError: ({ error }: { error: unknown }) => {
          seen = error;
        },
      });
      await outcome(client.GET('/posts/{id}', { ...one, maxRetries: 0 }));
      return { seen, failure };
    },
    (bare, portico) => {
      const b = bare as { seen: unknown; failure: Error };
      expect(b.seen).toBe(b.failure);
      const { seen } = portico as { seen: ConnectionError };
      expect(seen).toBeInstanceOf(ConnectionError);
      expect(seen.cause).toBeInstanceOf(TypeError);
      expect(seen.cause).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' } });
    },
  );
});

describe('responses', () => {
  same('a JSON body is data; the response is there too', async (make) => {
    const { client } = make();
    return outcome(client.GET('/posts/{id}', one));
  });

  same('an error status: its JSON body is error', async (make) => {
    const { client } = make({}, () => Response.json({ code: 'not_found', message: 'no post 1' }, { status: 404 }));
    return outcome(client.GET('/posts/{id}', one));
  });

  same('an error status with a body that is not JSON: the text is error', async (make) => {
    const { client } = make({}, () => new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } }));
    return outcome(client.GET('/posts/{id}', { ...one, maxRetries: 0 }));
  });

  same('204, HEAD, and Content-Length: 0 have no data', async (make) => {
    const { client } = make({}, (request) =>
      request.method === 'HEAD' ? new Response(null, { status: 200 }) : new Response(null, { status: 204 }),
    );
    const empty = make({}, () => new Response('', { status: 200, headers: { 'content-length': '0' } }));
    return [
      await outcome(client.DELETE('/posts/{id}', one)),
      await outcome(client.HEAD('/posts/{id}', one)),
      await outcome(empty.client.GET('/posts/{id}', one)),
    ];
  });

  same('the default response is an error', async (make) => {
    const { client } = make({}, () => Response.json({ code: 'teapot' }, { status: 418 }));
    return outcome(client.GET('/posts'));
  });

  for (const parseAs of ['text', 'arrayBuffer', 'blob', 'stream'] as const)
    same(`parseAs: ${parseAs}`, async (make) => {
      const { client } = make({}, () => new Response('{"id":1,"title":"raw"}', { headers: { 'content-type': 'application/json' } }));
      const { data } = await client.GET('/posts/{id}', { ...one, parseAs });
      if (parseAs === 'text') return data;
      if (parseAs === 'arrayBuffer') return new TextDecoder().decode(data as ArrayBuffer);
      if (parseAs === 'blob') return (data as Blob).text();
      return new Response(data as ReadableStream).text();
    });

  same('a JSON media type other than application/json is parsed as JSON', async (make) => {
    const { client } = make({}, () => new Response('{"id":1,"title":"vnd"}', { headers: { 'content-type': 'application/vnd.api+json' } }));
    return outcome(client.GET('/vnd'));
  });

  same('content negotiation: the Accept header goes out and the body of the type that came back is data', async (make) => {
    const { client, wire } = make({}, () => new Response('{"@id":"post/1"}', { headers: { 'content-type': 'application/ld+json' } }));
    const result = await outcome(client.GET('/media', { headers: { Accept: 'application/ld+json' } }));
    return [wire[0]!.headers.accept, result];
  });

  differs(
    'content negotiation: a body is checked against the schema of the media type that came back',
    async (make) => {
      const { client } = make({}, () => new Response('{"id":1,"title":"json"}', { headers: { 'content-type': 'application/ld+json' } }));
      return outcome(client.GET('/media'));
    },
    (bare, portico) => {
      // openapi-fetch checks nothing; Portico refuses a body that lacks what its type's schema requires.
      expect(bare).toMatchObject({ data: { id: 1, title: 'json' } });
      expect((portico as { thrown: string }).thrown).toMatch(/^ResponseValidationError: .*@id/);
    },
  );

  differs(
    'a 2xx body missing a required field',
    async (make) => {
      const { client } = make({}, () => Response.json({ id: 1 }));
      return outcome(client.GET('/posts/{id}', one));
    },
    (bare, portico) => {
      expect(bare).toMatchObject({ data: { id: 1 } });
      expect((portico as { thrown: string }).thrown).toMatch(/^ResponseValidationError: .*title/);
    },
  );

  differs(
    'a body the spec declares as text/html',
    async (make) => {
      const { client } = make({}, () => new Response('<p>hello</p>', { headers: { 'content-type': 'text/html' } }));
      return outcome(client.GET('/media'));
    },
    (bare, portico) => {
      // openapi-fetch parses every 2xx body as JSON unless told otherwise; Portico reads the media types the operation declares.
      expect((bare as { thrown: string }).thrown).toMatch(/^SyntaxError/);
      expect(portico).toMatchObject({ data: '<p>hello</p>' });
    },
  );

  differs(
    'a 2xx body that is not what its content type says',
    async (make) => {
      const { client } = make({}, () => new Response('{"id":', { headers: { 'content-type': 'application/json' } }));
      return outcome(client.GET('/posts/{id}', one));
    },
    (bare, portico) => {
      expect((bare as { thrown: string }).thrown).toMatch(/^SyntaxError/);
      expect((portico as { thrown: string }).thrown).toMatch(new RegExp(`^${ResponseParseError.errorName}`));
    },
  );
});

describe('what the runtime keeps under openapi-fetch options', () => {
  it("a failure's cause keeps its class and codes, and no field of it shows the token", async () => {
    const token = 'static-token-0123456789abcdef';
    const failure = Object.assign(new TypeError(`fetch failed: bad header Bearer ${token}`), {
      code: 'UND_ERR_INVALID_ARG',
      header: `authorization: Bearer ${token}`,
      request: { headers: { authorization: `Bearer ${token}` } },
      cause: Object.assign(new Error(`socket hang up (${token})`), { code: 'ECONNRESET', errno: -104 }),
    });
    for (const middleware of [false, true]) {
      const { client } = maker('portico')({ auth: { accessToken: token }, maxRetries: 0 }, () => {
        throw failure;
      });
      if (middleware) client.use({ onRequest: () => undefined });
      const error = await rejectionOf(client.GET('/private'));
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).cause).toBeInstanceOf(TypeError);
      expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_INVALID_ARG', cause: { code: 'ECONNRESET', errno: -104 } });
      // An object field (here the request's headers) is not copied at all.
      expect((error as { cause: { request?: unknown } }).cause.request).toBeUndefined();
      expectNoSecretsIn(renderings(error), [token], 'the connection error');
    }
  });

  it("requestInitExt cannot take over what the transport sets: the credential's header, redirect: 'manual'", async () => {
    for (const middleware of [false, true]) {
      const { client, wire } = maker('portico')({
        auth: { accessToken: 'static-token-0123456789' },
        requestInitExt: { redirect: 'follow', headers: { authorization: 'Bearer other' }, method: 'DELETE' },
      });
      if (middleware) client.use({ onRequest: () => undefined });
      await client.GET('/private');
      expect(wire[0], middleware ? 'with middleware' : 'without').toMatchObject({
        method: 'GET',
        redirect: 'manual',
        headers: { authorization: 'Bearer static-token-0123456789' },
      });
    }
  });

  it('a client bodySerializer runs once a call: a retry sends the very body it made', async () => {
    let serialized = 0;
    let calls = 0;
    const { client, wire } = maker('portico')({ bodySerializer: (body: unknown) => `call ${++serialized}:${JSON.stringify(body)}` }, () =>
      ++calls === 1 ? new Response(null, { status: 503, headers: { 'retry-after-ms': '0' } }) : Response.json({ id: 1, title: 't' }),
    );
    await client.PUT('/posts/{id}', { ...one, body: { id: 1, title: 't' } });
    expect(wire.map((w) => w.body)).toEqual(['call 1:{"id":1,"title":"t"}', 'call 1:{"id":1,"title":"t"}']);
  });

  it("Portico's own options never reach fetch (openapi-fetch copies what it does not know into every request): not the credentials", async () => {
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    for (const middleware of [false, true]) {
      const { client, wire } = maker('portico')({
        auth: { accessToken: 'static-token-0123456789' },
        timeout: 1_000,
        maxRetries: 0,
        logger,
      });
      if (middleware) client.use({ onRequest: () => undefined });
      await client.GET('/posts/{id}', one);
      expect(wire[0]!.initKeys.filter((key) => ['auth', 'timeout', 'maxRetries', 'logger', 'validateResponses'].includes(key))).toEqual([]);
    }
  });
});
