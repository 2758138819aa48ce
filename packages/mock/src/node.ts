// startMock: a mock on a loopback port (node:http), for clients and apps that
// reach it over HTTP. node:http is imported when a mock starts, so the rest
// of the package runs where there is no Node (Deno, Bun, workerd, browsers).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { MockError } from './errors.js';
import { createMock, MAX_BODY_BYTES, type Mock, type MockOptions, type ProviderSlug } from './mock.js';

export interface StartOptions extends Omit<MockOptions, 'baseUrl'> {
  /** The port on 127.0.0.1 (default 0: any free port). */
  port?: number;
}

/** A mock serving on 127.0.0.1. */
export interface RunningMock<Slug extends ProviderSlug = ProviderSlug>
  extends Pick<Mock<Slug>, 'slug' | 'client' | 'clientOptions' | 'authOptions' | 'controller' | 'handle'> {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Stops serving: hung requests end, connections close. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startMock<Slug extends ProviderSlug>(slug: Slug, options: StartOptions = {}): Promise<RunningMock<Slug>> {
  const { port = 0, ...rest } = options;
  if ('baseUrl' in options) throw new MockError('invalid_option', 'startMock serves at its own URL: leave baseUrl out');
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new MockError('invalid_option', 'port must be a whole number from 0 to 65535');
  // Checked before a port is taken: a bad option is an error, not a listening server.
  createMock(slug, rest).close();
  const { createServer } = await import('node:http');
  let mock: Mock<Slug> | undefined;
  const server: Server = createServer((req, res) => {
    if (mock) serve(mock, url, req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new MockError('port_in_use', `port ${port} on 127.0.0.1 is in use`, { cause: error })
          : new MockError('invalid_option', `cannot listen on 127.0.0.1:${port}: ${error.code ?? error.message}`, { cause: error }),
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  mock = createMock(slug, { ...rest, baseUrl: url });
  const running = mock;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      running.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  return new ServedMock(running, url, close) as unknown as RunningMock<Slug>;
}

/**
 * What startMock returns. Its own fields are the provider, the URL, the
 * controller and two bound functions (`const { close } = await startMock()`
 * works); the client and the options that carry its secrets are getters of
 * the class, so a spread, Object.entries or a test runner's printer never
 * meets them, and JSON and util.inspect show the provider, URL and request
 * count only.
 */
class ServedMock {
  readonly slug: string;
  readonly url: string;
  readonly controller: Mock['controller'];
  readonly handle: (request: Request) => Promise<Response>;
  readonly close: () => Promise<void>;
  readonly #mock: Mock;

  constructor(mock: Mock, url: string, close: () => Promise<void>) {
    this.#mock = mock;
    this.slug = mock.slug;
    this.url = url;
    this.controller = mock.controller;
    this.handle = (request) => mock.handle(request);
    this.close = close;
  }

  get client(): Mock['client'] {
    return this.#mock.client;
  }

  get clientOptions(): Mock['clientOptions'] {
    return this.#mock.clientOptions;
  }

  get authOptions(): Mock['authOptions'] {
    return this.#mock.authOptions;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RunningMock ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): object {
    return { provider: this.slug, url: this.url, requests: this.controller.requests.length };
  }
}

/** Methods fetch's Request refuses (the Fetch standard's forbidden methods); no provider operation uses one. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** A short answer of the server itself, for a request that never reaches the mock. */
function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(text);
}

/**
 * Whether a request comes from a client on this machine that meant this
 * server: its Host names 127.0.0.1 or localhost at the server's port, and a
 * browser page that sent it (Origin) is on a loopback host. A page on
 * another site that rebinds its name to 127.0.0.1 sends its own name in
 * both, and is refused before the mock sees the request (it could take a
 * test's queued answers and faults, or fill its log).
 */
function fromHere(req: IncomingMessage, port: string): { status: number; text: string } | undefined {
  const host = req.headers.host?.toLowerCase();
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    return { status: 421, text: `this server answers for 127.0.0.1:${port} and localhost:${port} only` };
  const origin = req.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) return { status: 403, text: 'a page on another host may not call the mock' };
  return undefined;
}

function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const { protocol, hostname } = new URL(origin);
  if (protocol !== 'http:' && protocol !== 'https:') return false;
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * One HTTP request, as a fetch Request to the mock. Its URL is the server's
 * own origin and the request's path: never the Host header, which a client
 * writes as it likes (a port past 65535, a space) and which would otherwise
 * end the process in `new URL`.
 */
function serve(mock: Mock, origin: string, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const aborted = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborted.abort();
  });
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const method = req.method ?? 'GET';
    const foreign = fromHere(req, new URL(origin).port);
    if (foreign) return refuse(res, foreign.status, foreign.text);
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) return refuse(res, 405, `${method} is not served here`);
    // Origin-form only ("/path?query"): an absolute URL or "*" names no path of the mock.
    const target = req.url ?? '/';
    if (!target.startsWith('/')) return refuse(res, 400, 'the request target must be a path');
    let request: Request;
    try {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        for (const v of [value ?? []].flat()) headers.append(name, String(v));
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks);
      request = new Request(`${origin}${target}`, { method, headers, ...(body ? { body } : {}), signal: aborted.signal });
    } catch {
      // What node:http parses but fetch refuses (a header value or method fetch cannot carry).
      return refuse(res, 400, 'the request cannot be read');
    }
    answer(mock, request, res).catch(() => res.destroy());
  });
}

/**
 * Writes the mock's answer. Any failure (a hung request released, an aborted
 * one, a header node:http refuses) rejects, and the caller ends the
 * connection: nothing here may become an unhandled rejection that ends the
 * process serving the mock.
 */
async function answer(mock: Mock, request: Request, res: ServerResponse): Promise<void> {
  const response = await mock.handle(request);
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out);
  // Streamed as the client takes it (an oversized fault's hundreds of MiB are never held at once).
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    if (!res.write(chunk.value)) await drained(res);
    if (res.destroyed) return void reader?.cancel().catch(() => undefined);
  }
  res.end();
}

/** Resolves when `res` can take more, or is closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
