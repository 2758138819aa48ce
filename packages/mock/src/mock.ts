// createMock: one provider's fake as a web-standard handler,
// `(request: Request) => Promise<Response>`, built from its spec.
import type { AuthProfile } from '@portico/auth';
import { redactSecrets } from '@portico/auth/internal';
import type { WebhookSignature } from '@portico/runtime';
import { Api } from './api.js';
import {
  type ControllerHost,
  ControlState,
  type Fault,
  MAX_DELAY_MS,
  MockController,
  type RespondWith,
  type UserInputQuestion,
} from './controller.js';
import { MockError } from './errors.js';
import { authOptionNames, clientFields, clientInputs, ENDPOINTS, userInputs } from './facts.js';
import { type Providers, providers } from './generated/index.js';
import { RequestLog, secretNames } from './log.js';
import { AuthorizationServer, type MockClient } from './oauth.js';
import { Provider, type Route } from './provider.js';
import { examplesOf, Replies, type Reply } from './reply.js';
import { Schemas } from './schemas.js';
import { signWebhook } from './webhooks.js';

export type ProviderSlug = keyof Providers;

export interface MockOptions {
  /** Origin (and path prefix) the handler answers for; each of the provider's hosts is served under it at its own path. Default `http://127.0.0.1`. */
  baseUrl?: string;
  /** The client the mock accepts; defaults are generated, and `mock.client` has them. */
  client?: { clientId?: string; clientSecret?: string; redirectUris?: string[]; [input: string]: string | string[] | undefined };
  /** Access token lifetime; default: the profile's documented lifetime, else 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Where the profile's rotation is `optional`: whether a refresh rotates (default true, the harder case for a client). */
  rotateRefreshTokens?: boolean;
  /** Items in each list operation (default 12), paged by the operation's paging style. */
  listLength?: number;
  /** Makes tokens, codes and ids repeatable. */
  seed?: number;
  /** The mock's clock (ms), for code, token and refresh token lifetimes. */
  now?: () => number;
}

/** A provider's fake: its handler, the client it accepts, and the controller a test drives it with. */
export interface Mock<Slug extends ProviderSlug = ProviderSlug> {
  readonly slug: Slug;
  /** The web-standard handler: a request to any of the provider's endpoints under `baseUrl`. */
  handle(request: Request): Promise<Response>;
  /** The credentials the mock accepts (client id and secret, redirect URI, Dapi's app secret, the webhook signing secret). */
  readonly client: Providers[Slug]['client'];
  /** `createClient`'s options that point a provider package's client at this mock. */
  readonly clientOptions: { baseUrl: string };
  /**
   * The options of the provider package's auth functions that point them at
   * this mock: `{ baseUrl }` where the profile's endpoints are paths on the
   * authorization server (`oauth()`, Dapi's `exchangeToken`), the endpoints'
   * URLs where they are absolute (`oauth()`'s authorizationUrl, tokenUrl,
   * revocationUrl; `auth.tokenUrl` for client credentials).
   */
  readonly authOptions: Providers[Slug]['authOptions'];
  readonly controller: MockController<Providers[Slug]['operationId'], Providers[Slug]['connect'], Providers[Slug]['webhook']>;
  /** Ends hung requests; later requests are answered 503. */
  close(): void;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The fake of one provider, from its spec: `await mock.handle(request)`. */
export function createMock<Slug extends ProviderSlug>(slug: Slug, options: MockOptions = {}): Mock<Slug> {
  if (typeof slug !== 'string' || !Object.hasOwn(providers, slug))
    throw new MockError('unknown_provider', `no provider ${shown(slug)}: one of ${Object.keys(providers).join(', ')}`);
  if (options === null || typeof options !== 'object') throw new MockError('invalid_option', 'the options must be an object');
  return new ProviderMock(slug, options) as unknown as Mock<Slug>;
}

/** A name a caller gave, for a message: a string quoted and shortened, anything else by its type (never converted: it may not convert). */
const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : `(a ${typeof value})`);

/** The handler behind a mock and the paths it is reached at; `@portico/mock/msw` dispatches through it. */
export const internals = new WeakMap<
  object,
  { dispatch(request: Request, path: string): Promise<Response | undefined>; provider: Provider }
>();

class ProviderMock {
  readonly slug: string;
  readonly controller: MockController;
  readonly #provider: Provider;
  readonly #base: URL;
  readonly #client: MockClient;
  readonly #clientView: Record<string, string>;
  readonly #webhookSecret: string | undefined;
  readonly #now: () => number;
  readonly #random: (prefix: string) => string;
  /** The client's own secrets and the webhook secret: fixed for the mock's life. */
  readonly #secrets = new Set<string>();
  readonly #replies: Replies;
  readonly #schemas: Schemas;
  readonly #oauth: AuthorizationServer;
  readonly #api: Api;
  readonly #control = new ControlState();
  readonly #log: RequestLog;
  #released = new AbortController();
  #closed = false;

  constructor(slug: string, options: MockOptions) {
    this.slug = slug;
    this.#provider = new Provider(providers[slug as ProviderSlug]);
    this.#base = parseBase(options.baseUrl);
    this.#now = checkClock(options.now);
    this.#random = randomness(options.seed);
    const profile = this.#provider.profile;
    if (options.rotateRefreshTokens !== undefined && typeof options.rotateRefreshTokens !== 'boolean')
      throw new MockError('invalid_option', 'rotateRefreshTokens must be true or false');
    const rotation = profile.refresh?.rotation ?? 'none';
    if (options.rotateRefreshTokens !== undefined && rotation !== 'optional' && options.rotateRefreshTokens !== (rotation === 'always'))
      throw new MockError(
        'invalid_option',
        `${slug} refresh tokens rotate ${rotation === 'always' ? 'on every use' : 'never'} (its profile): rotateRefreshTokens cannot change that`,
      );
    const lifetime = options.accessTokenLifetimeSeconds;
    // At most 100 years: an expiry past what a Date holds (year 275760) would break every token answer that states it.
    if (lifetime !== undefined && !(typeof lifetime === 'number' && lifetime > 0 && lifetime <= MAX_LIFETIME_S))
      throw new MockError(
        'invalid_option',
        `accessTokenLifetimeSeconds must be a positive number of seconds, at most ${MAX_LIFETIME_S} (100 years)`,
      );
    const listLength = options.listLength ?? 12;
    if (!Number.isInteger(listLength) || listLength < 0 || listLength > 10_000)
      throw new MockError('invalid_option', 'listLength must be a whole number from 0 to 10000');

    this.#client = clientOf(profile, options.client, this.#random);
    for (const value of [this.#client.clientSecret, ...Object.values(this.#client.inputs)]) this.#secrets.add(value);
    const signature = this.#provider.doc['x-portico-webhook-signature'] as WebhookSignature | undefined;
    this.#webhookSecret = signature ? this.#random('whsec') : undefined;
    if (this.#webhookSecret) this.#secrets.add(this.#webhookSecret);
    const fields = clientFields(profile);
    this.#clientView = Object.fromEntries(
      [
        ['clientId', this.#client.clientId],
        ['clientSecret', this.#client.clientSecret],
        ['redirectUri', this.#client.redirectUris[0]],
        ...Object.entries(this.#client.inputs),
      ].filter(([name]) => fields.includes(name!)) as [string, string][],
    );
    if (this.#webhookSecret) this.#clientView.webhookSecret = this.#webhookSecret;

    this.#schemas = new Schemas(this.#provider);
    this.#replies = new Replies(this.#provider, this.#schemas);
    this.#oauth = new AuthorizationServer(this.#provider, this.#schemas, this.#replies, {
      client: this.#client,
      now: this.#now,
      random: this.#random,
      accessTokenLifetimeSeconds: lifetime,
      rotateRefreshTokens: options.rotateRefreshTokens ?? rotation !== 'none',
    });
    this.#api = new Api(this.#provider, this.#schemas, this.#replies, this.#oauth, this.#control, { listLength, random: this.#random });
    // The client's secrets are few and fixed; what the mock issues (codes, tokens, a linked user's values) is cut by its shape, so
    // neither memory nor the work per logged request grows with the tokens issued, and reset() leaves nothing behind.
    this.#log = new RequestLog(secretNames(profile), [...this.#secrets], issuedPattern(['code', 'at', 'rt', ...userInputs(profile)]));
    this.controller = new MockController(this.#host(), this.#control);
    internals.set(this, { dispatch: (request, path) => this.#dispatch(request, path), provider: this.#provider });
  }

  get client(): Record<string, string> {
    return { ...this.#clientView };
  }

  get clientOptions(): { baseUrl: string } {
    return { baseUrl: this.#url(this.#provider.apiPath()) };
  }

  get authOptions(): Record<string, string> {
    const out: Record<string, string> = {};
    const names = authOptionNames(this.#provider.profile);
    if (names.includes('baseUrl')) out.baseUrl = this.#url(this.#provider.authPath());
    for (const [part, option] of ENDPOINTS) {
      const route = this.#provider.endpoint(part);
      if (names.includes(option) && route) out[option] = this.#url(route.path);
    }
    return out;
  }

  #url(path: string): string {
    return `${this.#base.href.replace(/\/+$/, '')}${path}`;
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    if (prefix && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return this.#notFound();
    return (await this.#dispatch(request, url.pathname.slice(prefix.length) || '/')) ?? this.#notFound();
  }

  close(): void {
    this.#closed = true;
    this.#released.abort();
  }

  #notFound(): Response {
    return this.#replies.toResponse(undefined, this.#replies.error(undefined, 404, 'no such resource'));
  }

  /** One request at `path` (the path below the mock's base, which is the path on the provider's own host). */
  async #dispatch(request: Request, path: string): Promise<Response | undefined> {
    if (this.#closed) return new Response('the mock is closed', { status: 503 });
    const url = new URL(request.url);
    const { route, values, methods } = this.#provider.match(request.method, path);
    // Taken as the request arrives, before its body is read: a fault is the next request's, not whichever finishes reading first.
    const fault = route
      ? this.#control.takeFault([route.operationId, ...(route === this.#provider.endpoint('token') ? ['token'] : []), '*'])
      : undefined;
    // And released by the reset() or close() that comes after it arrived.
    const released = this.#released.signal;
    if (!route) {
      // Its body is not read: not the mock's to log, and under MSW the next handler's to read.
      this.#log.add(request, '', this.#now(), undefined);
      if (!methods.length) return undefined;
      const reply = this.#replies.error(undefined, 405, `${request.method} is not allowed here`);
      return this.#replies.toResponse(undefined, { ...reply, headers: { allow: methods.join(', ') } });
    }
    const text = await readText(request, released);
    if (text === undefined) {
      this.#log.add(request, '', this.#now(), route.operationId);
      return this.#replies.toResponse(route, this.#replies.error(route, 413, 'the request body is too large'));
    }
    this.#log.add(request, text, this.#now(), route.operationId);
    if (fault) {
      const faulted = await this.#fault(fault, route, request, values ?? {}, released);
      if (faulted) return faulted;
    }
    const reply = await this.#answer(route, request, url, values ?? {}, text);
    if (reply.delay) await this.#wait(reply.delay, request.signal, released);
    return this.#replies.toResponse(route, reply);
  }

  async #answer(route: Route, request: Request, url: URL, values: Record<string, string>, text: string): Promise<Reply> {
    if (route === this.#provider.endpoint('authorization')) return this.#oauth.authorize(url, false);
    if (route === this.#provider.endpoint('token')) return this.#oauth.token(request, text);
    if (route === this.#provider.endpoint('revocation')) return this.#oauth.revoke(request, text);
    return this.#api.handle(route, request, url, values, text);
  }

  /** A fault's answer; undefined for a slow one, after its delay (the usual answer follows). */
  async #fault(
    fault: Fault,
    route: Route,
    request: Request,
    values: Record<string, string>,
    released: AbortSignal,
  ): Promise<Response | undefined> {
    const want = this.#api.wanted(route, values);
    switch (fault.kind) {
      case 'slow':
        await this.#wait(fault.delayMs, request.signal, released);
        return undefined;
      case 'hang':
        await this.#wait(Number.POSITIVE_INFINITY, request.signal, released);
        throw new MockError('closed', 'the hung request was released');
      case 'rate-limit': {
        const reply = this.#replies.error(route, 429, 'too many requests', want);
        return this.#replies.toResponse(route, { ...reply, headers: { 'retry-after': String(Math.ceil(fault.retryAfterSeconds)) } });
      }
      case 'server-error':
        return this.#replies.toResponse(route, this.#replies.error(route, fault.status ?? 500, 'internal error', want));
      case 'malformed': {
        const media = this.#replies.mediaFor(route, '200', want) ?? 'application/json';
        return new Response(media.includes('xml') ? '<unclosed>' : '{"truncated": ', { status: 200, headers: { 'content-type': media } });
      }
      case 'oversized': {
        const { body, length } = padded(fault.bytes);
        return new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(length) } });
      }
    }
  }

  /** Resolves after `ms`; rejects when the request aborts or the mock is reset or closed. */
  #wait(ms: number, signal: AbortSignal, released: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        released.removeEventListener('abort', stop);
        reject(new MockError('closed', 'the request was aborted, or the mock reset or closed'));
      };
      const timer = Number.isFinite(ms)
        ? setTimeout(() => {
            signal.removeEventListener('abort', stop);
            released.removeEventListener('abort', stop);
            resolve();
          }, ms)
        : undefined;
      if (signal.aborted || released.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      released.addEventListener('abort', stop, { once: true });
    });
  }

  #host(): ControllerHost {
    return {
      checkQueued: (operationId, reply) => this.#checkQueued(operationId, reply),
      checkTarget: (target) => {
        if (target !== 'token' && target !== '*' && !this.#provider.route(target)) throw this.#unknown(target);
      },
      checkUserInput: (operationId, inputs) => this.#checkUserInput(operationId, inputs),
      approve: (url, deny) => this.#approve(url, deny),
      connect: () => {
        if (!this.#provider.profile.grants.includes('access_code_exchange'))
          throw new MockError(
            'unsupported',
            `${this.slug} has no access-code exchange: connect() is for providers whose users link through a front end`,
          );
        return this.#oauth.connect();
      },
      expireAccessTokens: () => this.#oauth.expireAccessTokens(),
      revokeGrants: () => this.#oauth.revokeGrants(),
      sign: (payload, timestamp) => this.#sign(payload, timestamp),
      requests: () => this.#log.entries,
      stats: () => this.#oauth.stats,
      reset: () => {
        this.#oauth.reset();
        this.#api.reset();
        this.#control.clear();
        this.#log.clear();
        this.#released.abort();
        this.#released = new AbortController();
      },
    };
  }

  #unknown(operationId: string): MockError {
    return new MockError('unknown_operation', `${this.slug} has no operation ${shown(operationId)}`);
  }

  #checkQueued(
    operationId: string,
    reply: RespondWith,
  ): { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number } {
    const route = this.#provider.route(operationId);
    if (!route) throw this.#unknown(operationId);
    const statuses = this.#replies.statuses(route);
    const status = reply.status ?? Number(statuses.find((s) => /^2\d\d$/.test(s)) ?? 200);
    if (!Number.isInteger(status) || status < 200 || status > 599)
      throw new MockError('invalid_option', 'status must be a whole number from 200 to 599');
    if (reply.delayMs !== undefined && !(Number.isFinite(reply.delayMs) && reply.delayMs >= 0 && reply.delayMs <= MAX_DELAY_MS))
      throw new MockError('invalid_option', `delayMs must be from 0 to ${MAX_DELAY_MS} (about 24.8 days)`);
    if (reply.headers !== undefined) checkHeaders(reply.headers);
    if (reply.body !== undefined) {
      const key = statuses.includes(String(status)) ? String(status) : 'default';
      const media = this.#replies.mediaFor(route, key);
      if (media === undefined) throw new MockError('invalid_body', `${operationId} documents no body for HTTP ${status}`);
      const problems = this.#replies.problems(route, key, media, reply.body);
      if (problems.length)
        throw new MockError('invalid_body', `the body is not a valid ${operationId} HTTP ${status} response: ${problems.join('; ')}`);
    }
    return {
      status,
      ...(reply.body === undefined ? {} : { body: asJson(reply.body, 'invalid_body', 'the body') }),
      ...(reply.headers ? { headers: { ...reply.headers } } : {}),
      ...(reply.delayMs === undefined ? {} : { delayMs: reply.delayMs }),
    };
  }

  #checkUserInput(operationId: string, inputs: readonly UserInputQuestion[]): void {
    if (!this.#provider.route(operationId)) throw this.#unknown(operationId);
    const rules = this.#provider.doc['x-portico-user-input'];
    if (!rules) throw new MockError('unsupported', `${this.slug} has no user-input rounds (x-portico-user-input)`);
    if (!Array.isArray(inputs) || inputs.length === 0) throw new MockError('invalid_option', 'a round asks at least one question');
    for (const input of inputs) {
      const problems = this.#schemas.problems(`/components/schemas/${rules.schema}`, { ...input, answer: '' });
      if (problems.length) throw new MockError('invalid_body', `not a ${rules.schema}: ${problems.join('; ')}`);
    }
  }

  #approve(url: string, deny: boolean): string {
    const route = this.#provider.endpoint('authorization');
    if (!route) throw new MockError('unsupported', `${this.slug} has no authorization endpoint`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new MockError('invalid_option', 'approve() takes the absolute authorization URL');
    }
    const reply = this.#oauth.authorize(parsed, deny);
    if (reply.location === undefined)
      throw new MockError('authorization_refused', 'the provider would show an error page: unknown client_id or redirect_uri');
    return reply.location;
  }

  async #sign(payload: unknown, timestamp: Date | undefined) {
    const rules = this.#provider.doc['x-portico-webhook-signature'] as WebhookSignature | undefined;
    if (!rules || !this.#webhookSecret)
      throw new MockError('unsupported', `${this.slug} does not sign webhooks (no x-portico-webhook-signature)`);
    const webhooks = this.#provider.doc.webhooks ?? {};
    let event = payload;
    if (typeof payload === 'string') {
      const media = webhooks[payload]?.post?.requestBody?.content?.['application/json'];
      if (!Object.hasOwn(webhooks, payload) || !media)
        throw new MockError('invalid_option', `${this.slug} has no webhook ${JSON.stringify(payload).slice(0, 60)}`);
      event = examplesOf(this.#provider.doc, media)[0];
    } else if (payload === null || typeof payload !== 'object') {
      throw new MockError('invalid_option', 'signWebhook takes a webhook name or an event object');
    }
    if (timestamp !== undefined && !(timestamp instanceof Date && Number.isFinite(timestamp.getTime())))
      throw new MockError('invalid_option', 'timestamp must be a valid Date');
    const body = JSON.stringify(asJson(event, 'invalid_option', 'the event'));
    return signWebhook(rules, this.#webhookSecret, body, timestamp ?? new Date(this.#now()));
  }

  /** What `util.inspect` shows: which provider, where, how busy; never the client or its secrets. */
  [INSPECT](): string {
    return `Mock ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): object {
    return { provider: this.slug, baseUrl: redactSecrets(this.#base.href, [...this.#secrets]), requests: this.#log.entries.length };
  }
}

// RFC 9110 §5.1 and §5.5: a field name is a token; a value holds no control character but tab (obs-text, 0x80-0xff, is
// allowed). These are node:http's rules as well as fetch's: a header one of them refuses ends the answer, not the test.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers a test queues: each one a Response and node:http can both send, else MockError invalid_option (naming the header, never its value). */
function checkHeaders(headers: unknown): void {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers))
    throw new MockError('invalid_option', 'headers must be an object of header names to string values');
  for (const [name, value] of Object.entries(headers)) {
    const shown = JSON.stringify(name.slice(0, 40));
    if (!HEADER_NAME.test(name)) throw new MockError('invalid_option', `header name ${shown} is not an HTTP token`);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value))
      throw new MockError(
        'invalid_option',
        `header ${shown} must be a string without control characters (tab aside) or characters past U+00FF`,
      );
  }
}

function parseBase(baseUrl: string | undefined): URL {
  const text = baseUrl ?? 'http://127.0.0.1';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MockError('invalid_option', 'baseUrl must be an absolute http(s) URL, e.g. http://127.0.0.1:4010');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password)
    throw new MockError('invalid_option', 'baseUrl must be an http(s) origin with an optional path, without query, fragment or user info');
  return url;
}

const MAX_LIFETIME_S = 100 * 365.25 * 24 * 3600;

function checkClock(now: (() => number) | undefined): () => number {
  if (now === undefined) return Date.now;
  if (typeof now !== 'function') throw new MockError('invalid_option', 'now must be a function returning milliseconds');
  // Read as a Date reads milliseconds: a time no Date holds is the option's fault, said so, not a RangeError deep in a token answer.
  return () => {
    const time = now();
    if (typeof time !== 'number' || !Number.isFinite(new Date(time).getTime()))
      throw new MockError('invalid_option', 'now() must return milliseconds since 1970 that a Date can hold');
    return time;
  };
}

/** A copy of `value` as JSON has it (what goes on the wire); a value JSON cannot write (a BigInt, a cycle) is a MockError. */
function asJson(value: unknown, code: 'invalid_body' | 'invalid_option', what: string): unknown {
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    throw new MockError(code, `${what} must be JSON: no BigInt, no cycle`);
  }
}

/** Request bodies past this are refused (413): a test's requests are small, and a runaway one must not fill memory. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * A request's body as text; undefined past MAX_BODY_BYTES. It rejects with
 * MockError `closed` when the request aborts or the mock is reset or closed
 * meanwhile: a body that never ends holds nothing for good.
 */
async function readText(request: Request, released: AbortSignal): Promise<string | undefined> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const signals = [request.signal, released];
  const cancel = () => void reader.cancel().catch(() => undefined);
  for (const signal of signals) signal.addEventListener('abort', cancel, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      if (signals.some((signal) => signal.aborted)) throw new MockError('closed', 'the request was aborted, or the mock reset or closed');
      const { done, value } = await reader.read();
      if (signals.some((signal) => signal.aborted)) throw new MockError('closed', 'the request was aborted, or the mock reset or closed');
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        cancel();
        return undefined;
      }
      chunks.push(value);
    }
    return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  } finally {
    for (const signal of signals) signal.removeEventListener('abort', cancel);
  }
}

/** A JSON body of `bytes` (at least its 14 bytes of frame), streamed in chunks: no string of that size is ever built. */
function padded(bytes: number): { body: ReadableStream<Uint8Array>; length: number } {
  const encoder = new TextEncoder();
  const parts = [encoder.encode('{"padding":"'), encoder.encode('"}')] as const;
  let left = Math.max(0, bytes - parts[0].length - parts[1].length);
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (step++ === 0) return controller.enqueue(parts[0]);
      if (left > 0) {
        const size = Math.min(left, 64 * 1024);
        left -= size;
        return controller.enqueue(new Uint8Array(size).fill(0x78));
      }
      controller.enqueue(parts[1]);
      controller.close();
    },
  });
  return { body, length: parts[0].length + left + parts[1].length };
}

/** The values `randomness` makes with these prefixes, wherever they appear (no encoding changes their letters, digits and `_`). */
function issuedPattern(prefixes: readonly string[]): RegExp {
  return new RegExp(`mock_(?:${prefixes.map((p) => p.replace(/[^\w]/g, '')).join('|')})_[0-9a-f]{32}`, 'g');
}

/** Unguessable values by default (`mock_<prefix>_<32 hex digits>`); with a seed, the same values every run (for snapshot tests). */
function randomness(seed: number | undefined): (prefix: string) => string {
  if (seed === undefined) return (prefix) => `mock_${prefix}_${crypto.randomUUID().replace(/-/g, '')}`;
  if (!Number.isInteger(seed)) throw new MockError('invalid_option', 'seed must be an integer');
  let state = seed >>> 0;
  // mulberry32: small and well mixed; these values need to be repeatable, not secret.
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0).toString(16).padStart(8, '0');
  };
  return (prefix) => `mock_${prefix}_${next()}${next()}${next()}${next()}`;
}

function clientOf(profile: AuthProfile, given: MockOptions['client'], random: (prefix: string) => string): MockClient {
  if (given !== undefined && (given === null || typeof given !== 'object'))
    throw new MockError('invalid_option', 'client must be an object');
  const text = (name: string, value: unknown, fallback: string) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value))
      throw new MockError('invalid_option', `client.${name} must be a non-empty string on one line`);
    return value;
  };
  const redirectUris = given?.redirectUris ?? ['http://127.0.0.1/callback'];
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.some((u) => typeof u !== 'string' || !URL.canParse(u)))
    throw new MockError('invalid_option', 'client.redirectUris must be a non-empty list of absolute URLs');
  return {
    clientId: text('clientId', given?.clientId, 'mock-client'),
    clientSecret: text('clientSecret', given?.clientSecret, random('secret')),
    redirectUris,
    inputs: Object.fromEntries(clientInputs(profile).map((name) => [name, text(name, given?.[name], random(name))])),
  };
}
