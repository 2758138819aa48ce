// A tiny loopback HTTP server for emulators: routes, a request log, injected
// failures and latency. Everything binds to 127.0.0.1 and port 0.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
  /** Lower-cased media type without parameters, e.g. application/x-www-form-urlencoded. */
  contentType: string | undefined;
}

export interface Reply {
  status: number;
  /** An object is sent as JSON; a string or bytes (Uint8Array) as is; undefined sends no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Reset the connection (TCP RST) instead of answering. */
  reset?: boolean;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

interface Injection {
  reply: Reply | Handler;
  times: number;
  delayMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RFC 6749 §5.1: token responses must not be cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

/** A token endpoint answer: JSON with Cache-Control: no-store. */
export function tokenReply(status: number, body: unknown): Reply {
  return { status, body, headers: NO_STORE };
}

export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  /** Added before every reply. */
  latencyMs = 0;
  readonly #routes = new Map<string, Handler>();
  readonly #injections = new Map<string, Injection[]>();
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          contentType: req.headers['content-type']?.split(';')[0]?.trim().toLowerCase(),
        };
        this.requests.push(recorded);
        this.#answer(recorded).then(
          (reply) => send(res, reply),
          (error: unknown) => send(res, json(500, { error: 'emulator_failure', error_description: String(error) })),
        );
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Serves `route` ("POST /oauth/token") with `handler`. */
  protected route(route: string, handler: Handler): void {
    this.#routes.set(route, handler);
  }

  /** Requests to `route` ("POST /oauth/token") seen so far. */
  count(route: string): number {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route).length;
  }

  /** The next `times` requests to `route` get `reply` instead of the emulator's own answer, after `delayMs`. */
  inject(route: string, reply: Injection['reply'], options: { times?: number; delayMs?: number } = {}): void {
    const queue = this.#injections.get(route) ?? [];
    queue.push({ reply, times: options.times ?? 1, delayMs: options.delayMs ?? 0 });
    this.#injections.set(route, queue);
  }

  /** Forgets the request log, pending injections and latency. */
  reset(): void {
    this.requests.length = 0;
    this.#injections.clear();
    this.latencyMs = 0;
  }

  async #answer(request: RecordedRequest): Promise<Reply> {
    const route = `${request.method} ${request.path}`;
    // Taken before any await, so concurrent requests each get their own injection.
    const queue = this.#injections.get(route);
    const injection = queue?.[0];
    if (queue && injection && --injection.times <= 0) queue.shift();
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (injection) {
      if (injection.delayMs > 0) await sleep(injection.delayMs);
      return typeof injection.reply === 'function' ? injection.reply(request) : injection.reply;
    }
    const handler = this.#routes.get(route);
    return handler ? handler(request) : json(404, { error: 'not_found' });
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply.reset) {
    res.socket?.resetAndDestroy();
    return;
  }
  const headers: Record<string, string> = { ...reply.headers };
  let body: string | Uint8Array | undefined;
  if (typeof reply.body === 'string' || reply.body instanceof Uint8Array) body = reply.body;
  else if (reply.body !== undefined) {
    body = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** Parses a form body, refusing anything that is not application/x-www-form-urlencoded. */
export function formOf(request: RecordedRequest): URLSearchParams | undefined {
  return request.contentType === 'application/x-www-form-urlencoded' ? new URLSearchParams(request.body) : undefined;
}

/** Parses a JSON object body, refusing anything that is not application/json. */
export function jsonOf(request: RecordedRequest): Record<string, unknown> | undefined {
  if (request.contentType !== 'application/json') return undefined;
  try {
    const value: unknown = JSON.parse(request.body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the parameter names are exactly `names` (any order, each once). */
export function hasExactly(params: URLSearchParams | Record<string, unknown>, names: readonly string[]): boolean {
  const keys = params instanceof URLSearchParams ? [...params.keys()] : Object.keys(params);
  return keys.length === names.length && new Set(keys).size === keys.length && names.every((n) => keys.includes(n));
}

// RFC 6749 §2.3.1: each of id and secret is form-urlencoded before joining,
// so a strict decoder refuses a raw ':' '+' or '%' in the secret.
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Client credentials from an HTTP Basic header per RFC 6749 §2.3.1, or undefined if absent or malformed. */
export function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerOf(request: RecordedRequest): string | undefined {
  return /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
}

let counter = 0;
/** A unique, recognisable opaque value. */
export function opaque(prefix: string): string {
  counter += 1;
  return `${prefix}_${counter}_${crypto.randomUUID().replace(/-/g, '')}`;
}
