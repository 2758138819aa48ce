// The defects an adversarial review found in issue 22's openapi-fetch
// options and middleware (each test failed before its fix): a call that hung
// on a middleware holding a reader, middleware added or removed during a
// retry's wait, a credential on a Request fetch would redirect itself, a
// pass-through middleware that lost the body, validation a server could turn
// off under content negotiation, and foreign errors that broke or leaked.
import { inspect } from 'node:util';
import type { Middleware } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import { ConnectionError, ResponseParseError, ResponseTooLargeError, ResponseValidationError } from '../../src/index.ts';
import { type AnyClient, createPorticoClient, observer } from '../compat/fixture.ts';
import { expectNoSecretsIn, rejectionOf, renderings } from '../helpers.ts';

const one = { params: { path: { id: 1 } } };
const post = () => Response.json({ id: 1, title: 'hello' });
const TOKEN = 'static-token-0123456789abcdef';

/** A body that never ends, as a server streaming garbage would send it. */
function endless(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(120);
  return new ReadableStream({ pull: (controller) => controller.enqueue(chunk) });
}

/** A Portico client of the compat API over a fetch that answers the n-th request with `answers[n]`. */
function clientAnswering(answers: ((request: Request) => Response)[], options: Record<string, unknown> = {}) {
  let n = 0;
  const { fetch, wire } = observer((request) => answers[Math.min(n++, answers.length - 1)]!(request));
  const client: AnyClient = createPorticoClient({ fetch, ...options });
  return { client, wire };
}

const unavailable = () => new Response(new Uint8Array(4 * 1024 * 1024), { status: 503, headers: { 'retry-after-ms': '0' } });

describe('middleware that holds the copy it was handed', () => {
  for (const [name, hold] of [
    ['holds a reader', (response: Response) => void response.body?.getReader()],
    ['reads one chunk and holds on', (response: Response) => void response.body?.getReader().read()],
  ] as const)
    it(`${name} on a retried 503: the retry goes out and the call ends`, async () => {
      const { client, wire } = clientAnswering([unavailable, post], { maxRetries: 1, timeout: 5_000 });
      client.use({ onResponse: ({ response }: { response: Response }) => hold(response) });
      const { data, response } = await client.GET('/posts/{id}', one);
      expect([data, response.status, wire.length]).toEqual([{ id: 1, title: 'hello' }, 200, 2]);
    });

  it('an endless body is refused at maxResponseBytes, before the middleware sees it, not at the timeout', async () => {
    const { client } = clientAnswering([() => new Response(endless(), { headers: { 'content-type': 'application/json' } })], {
      maxResponseBytes: 256 * 1024,
      timeout: 60_000,
    });
    let seen = 0;
    client.use({ onResponse: () => void seen++ });
    expect(await rejectionOf(client.GET('/posts/{id}', one))).toBeInstanceOf(ResponseTooLargeError);
    expect(seen).toBe(0);
  });
});

describe('middleware added or removed while a call waits to retry', () => {
  it('added: the retry goes through it, and the call gets its answer', async () => {
    const traced: Middleware = {
      onRequest: ({ request }) => {
        request.headers.set('x-trace', 'on');
        return request;
      },
    };
    const late: { client?: AnyClient } = {};
    const { client, wire } = clientAnswering(
      [
        () => {
          late.client.use(traced);
          return unavailable();
        },
        post,
      ],
      { maxRetries: 1 },
    );
    late.client = client;
    const result = await client.GET('/posts/{id}', one);
    expect(result.data).toEqual({ id: 1, title: 'hello' });
    expect(wire.map((w) => w.headers['x-trace'])).toEqual([undefined, 'on']);
  });

  it('removed: the next answer is still read within maxResponseBytes', async () => {
    const passing: Middleware = { onResponse: () => undefined };
    const late: { client?: AnyClient } = {};
    const { client } = clientAnswering(
      [
        () => {
          late.client.eject(passing);
          return unavailable();
        },
        () => new Response(endless(), { status: 500 }),
      ],
      { maxRetries: 1, maxResponseBytes: 256 * 1024 },
    );
    late.client = client;
    client.use(passing);
    expect(await rejectionOf(client.GET('/posts/{id}', one))).toBeInstanceOf(ResponseTooLargeError);
  });
});

describe('a credential never rides a Request that fetch would redirect itself', () => {
  it("a middleware's Request built without redirect: 'manual'", async () => {
    const { client, wire } = clientAnswering([post], { auth: { accessToken: TOKEN } });
    client.use({
      onRequest: ({ request }: { request: Request }) => new Request(request.url, { method: request.method, headers: request.headers }),
    });
    await client.GET('/private');
    expect(wire[0]).toMatchObject({ redirect: 'manual', headers: { authorization: `Bearer ${TOKEN}` } });
  });

  it('a custom Request class that drops the redirect mode, at the client and at the call', async () => {
    class Forgetful extends Request {
      constructor(input: RequestInfo | URL, init?: RequestInit) {
        super(input, { method: init?.method, headers: init?.headers, body: init?.body });
      }
    }
    for (const where of ['client', 'call'] as const) {
      const { client, wire } = clientAnswering([post], {
        auth: { accessToken: TOKEN },
        ...(where === 'client' ? { Request: Forgetful } : {}),
      });
      await client.GET('/private', where === 'call' ? { Request: Forgetful } : {});
      expect(wire[0], where).toMatchObject({ redirect: 'manual', headers: { authorization: `Bearer ${TOKEN}` } });
    }
  });

  it("a middleware's request object does not get the credential: only the rebuilt one sent does", async () => {
    const { client, wire } = clientAnswering([post], { auth: { accessToken: TOKEN } });
    const seen: (string | null)[] = [];
    client.use({ onResponse: ({ request }: { request: Request }) => void seen.push(request.headers.get('authorization')) });
    await client.GET('/private');
    expect([seen, wire[0]!.headers.authorization]).toEqual([[null], `Bearer ${TOKEN}`]);
  });
});

describe('a pass-through onResponse middleware', () => {
  it("openapi-fetch's documented shape, new Response(response.body, response), keeps the body", async () => {
    const { client } = clientAnswering([post]);
    client.use({ onResponse: ({ response }: { response: Response }) => new Response(response.body, response) });
    expect((await client.GET('/posts/{id}', one)).data).toEqual({ id: 1, title: 'hello' });
  });

  it('and the error body of a 500 with throwOnError', async () => {
    const { client } = clientAnswering([() => Response.json({ code: 'boom' }, { status: 500 })], { throwOnError: true, maxRetries: 0 });
    client.use({ onResponse: ({ response }: { response: Response }) => new Response(response.body, response) });
    expect(await rejectionOf(client.GET('/posts/{id}', one))).toMatchObject({ status: 500, body: { code: 'boom' } });
  });
});

describe('content negotiation: the server does not choose whether a body is checked', () => {
  /** A body sent with `contentType`, or with none at all. */
  const sent = (body: string, contentType: string | undefined) => () => {
    const response = new Response(body, { headers: { 'content-type': contentType ?? '' } });
    if (contentType === undefined) response.headers.delete('content-type');
    return response;
  };

  for (const contentType of [
    undefined,
    '',
    'application/vnd.api+json',
    'application/json, application/ld+json',
    'APPLICATION/PROBLEM+JSON',
  ])
    it(`a body that fits none of the status's schemas, as ${JSON.stringify(contentType)}, is refused, never data`, async () => {
      const { client } = clientAnswering([sent('{"nothing":"here"}', contentType)]);
      const error = await rejectionOf(client.GET('/media'));
      expect(error instanceof ResponseValidationError || error instanceof ResponseParseError, String(error)).toBe(true);
    });

  it('one that fits either of its JSON schemas is data', async () => {
    const { client } = clientAnswering([sent('{"@id":"post/1"}', 'application/vnd.api+json')]);
    expect((await client.GET('/media')).data).toEqual({ '@id': 'post/1' });
  });
});

describe('what fetch throws, however odd, is a ConnectionError that shows no token', () => {
  class Private extends Error {
    readonly #request = { headers: { authorization: `Bearer ${TOKEN}` } };
    [inspect.custom]() {
      return `Private ${JSON.stringify(this.#request)}`;
    }
    toJSON() {
      return this.#request;
    }
  }
  const throwers: Record<string, () => unknown> = {
    'a null-prototype object': () => Object.assign(Object.create(null), { message: `Bearer ${TOKEN}` }),
    'an Error whose message getter throws': () =>
      Object.defineProperty(new Error('x'), 'message', {
        get() {
          throw new Error(`Bearer ${TOKEN}`);
        },
      }),
    'an Error whose cause getter throws': () =>
      Object.defineProperty(new Error('x'), 'cause', {
        get() {
          throw new Error(`Bearer ${TOKEN}`);
        },
      }),
    'a revoked Proxy': () => {
      const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
      revoke();
      return proxy;
    },
    'a class that prints and serializes private state': () => new Private('failed'),
    'an error with a field named with the token': () => Object.assign(new Error('x'), { [TOKEN]: 1 }),
  };
  for (const [name, thrower] of Object.entries(throwers))
    it(name, async () => {
      const { client } = clientAnswering(
        [
          () => {
            throw thrower();
          },
        ],
        { auth: { accessToken: TOKEN }, maxRetries: 0 },
      );
      const error = await rejectionOf(client.GET('/private'));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(() => inspect(error, { depth: Infinity })).not.toThrow();
      expectNoSecretsIn([...renderings(error), JSON.stringify((error as Error).cause) ?? ''], [TOKEN], name);
    });
});

describe('a body the caller has openapi-fetch parse (parseAs)', () => {
  it('is read within maxResponseBytes: a 2xx body as text, and an error body even under parseAs stream', async () => {
    for (const [parseAs, status] of [
      ['text', 200],
      ['json', 200],
      ['blob', 200],
      ['stream', 500],
    ] as const) {
      const { client } = clientAnswering([() => new Response(endless(), { status })], { maxResponseBytes: 256 * 1024, maxRetries: 0 });
      expect(await rejectionOf(client.GET('/posts/{id}', { ...one, parseAs })), `${parseAs} ${status}`).toBeInstanceOf(
        ResponseTooLargeError,
      );
    }
  });

  it('a 2xx stream is handed over as it comes, unread', async () => {
    const { client } = clientAnswering([() => new Response(endless())], { maxResponseBytes: 256 * 1024 });
    const { data } = await client.GET('/posts/{id}', { ...one, parseAs: 'stream' });
    const reader = (data as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).value?.byteLength).toBe(64 * 1024);
    await reader.cancel();
  });

  it('a body that is not JSON under parseAs json is a ResponseParseError, never a SyntaxError', async () => {
    const { client } = clientAnswering([() => new Response('{"id":', { headers: { 'content-type': 'application/json' } })]);
    expect(await rejectionOf(client.GET('/posts/{id}', { ...one, parseAs: 'json' }))).toBeInstanceOf(ResponseParseError);
  });
});

describe('requestInitExt on every hop', () => {
  it('a redirect on the API origin, followed by the transport, goes through the same dispatcher, with or without middleware', async () => {
    const dispatcher = { name: 'pinned-tls-agent' };
    for (const middleware of [false, true]) {
      const { client, wire } = clientAnswering(
        [
          (request) =>
            new URL(request.url).search === '' ? new Response(null, { status: 307, headers: { location: '/private?hop=1' } }) : post(),
        ],
        { auth: { accessToken: TOKEN }, requestInitExt: { dispatcher } },
      );
      if (middleware) client.use({ onRequest: () => undefined });
      await client.GET('/private');
      expect(
        wire.map((w) => [new URL(w.url).search, w.dispatcher === dispatcher, w.headers.authorization]),
        middleware ? 'with middleware' : 'without',
      ).toEqual([
        ['', true, `Bearer ${TOKEN}`],
        ['?hop=1', true, `Bearer ${TOKEN}`],
      ]);
    }
  });
});
