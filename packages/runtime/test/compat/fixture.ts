// The compatibility suite's API, written here in the spirit of openapi-fetch's
// test fixtures (a blog: posts, tags, media types, empty and error answers),
// and a Portico client generated from it the way a provider package is: the
// metadata by tools/lib/meta.ts, the client by defineClient. Beside it, bare
// openapi-fetch on the same types, and a fetch that answers from a handler
// and notes what each client put on the wire.
import createFetchClient, { wrapAsPathBasedClient as wrapFetchClient } from 'openapi-fetch';
import { operationMeta } from '../../../../tools/lib/meta.ts';
import { type CredentialInput, type CredentialProfile, createCredentialAuthenticator } from '../../../auth/src/index.ts';
import { type ClientOptions, defineClient, type ProviderSpec, wrapAsPathBasedClient } from '../../src/index.ts';

const post = {
  type: 'object',
  required: ['id', 'title'],
  properties: { id: { type: 'integer' }, title: { type: 'string' }, body: { type: 'string' } },
};
const problem = { type: 'object', required: ['code'], properties: { code: { type: 'string' }, message: { type: 'string' } } };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer' } };

const doc = {
  openapi: '3.1.0',
  info: { title: 'Compat', version: '1' },
  servers: [{ url: 'https://api.example.test' }],
  'x-portico-auth': { securityScheme: 'Token' },
  components: { securitySchemes: { Token: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/posts': {
      get: {
        parameters: [
          { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
          { name: 'filter', in: 'query', schema: { type: 'object' } },
          { name: 'q', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: json({ type: 'array', items: post }), default: json(problem) },
      },
      post: { requestBody: json(post), responses: { 201: json(post), 400: json(problem) } },
    },
    '/posts/{id}': {
      parameters: [idParam],
      get: { responses: { 200: json(post), 404: json(problem) } },
      head: { responses: { 200: { description: 'exists' } } },
      put: { requestBody: json(post), responses: { 200: json(post) } },
      patch: { requestBody: json(post), responses: { 200: json(post) } },
      delete: { responses: { 204: { description: 'deleted' } } },
      options: { responses: { 204: { description: 'allowed' } } },
      trace: { responses: { 200: { content: { 'message/http': { schema: { type: 'string' } } } } } },
    },
    '/form': {
      post: {
        requestBody: { content: { 'application/x-www-form-urlencoded': { schema: post } } },
        responses: { 200: json(post) },
      },
    },
    '/media': {
      get: {
        responses: {
          200: {
            content: {
              'application/json': { schema: post },
              'application/ld+json': { schema: { type: 'object', required: ['@id'], properties: { '@id': { type: 'string' } } } },
              'text/html': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    '/vnd': { get: { responses: { 200: { content: { 'application/vnd.api+json': { schema: post } } } } } },
    '/private': { get: { security: [{ Token: [] }], responses: { 200: json(post) } } },
    '/styles/{simple}/{.label}/{;matrix}/{list*}/{.labels*}/{;matrices*}': {
      get: {
        parameters: ['simple', 'label', 'matrix', 'list', 'labels', 'matrices'].map((name) => ({
          name,
          in: 'path',
          required: true,
          schema: { type: 'string' },
        })),
        responses: { 200: json(post) },
      },
    },
  },
} as const;

type Post = { id: number; title: string; body?: string };
type Problem = { code: string; message?: string };
type Json<T> = { content: { 'application/json': T } };

/** What openapi-typescript writes for `doc`, trimmed to what the calls here use. */
export interface paths {
  '/posts': {
    get: {
      parameters: { query?: { tags?: string[]; filter?: Record<string, unknown>; q?: string } };
      responses: { 200: Json<Post[]>; default: Json<Problem> };
    };
    post: { requestBody: Json<Post>; responses: { 201: Json<Post>; 400: Json<Problem> } };
  };
  '/posts/{id}': {
    get: { parameters: { path: { id: number } }; responses: { 200: Json<Post>; 404: Json<Problem> } };
    head: { parameters: { path: { id: number } }; responses: { 200: { content?: never } } };
    put: { parameters: { path: { id: number } }; requestBody: Json<Post>; responses: { 200: Json<Post> } };
    patch: { parameters: { path: { id: number } }; requestBody: Json<Post>; responses: { 200: Json<Post> } };
    delete: { parameters: { path: { id: number } }; responses: { 204: { content?: never } } };
    options: { parameters: { path: { id: number } }; responses: { 204: { content?: never } } };
    trace: { parameters: { path: { id: number } }; responses: { 200: { content: { 'message/http': string } } } };
  };
  '/form': { post: { requestBody: { content: { 'application/x-www-form-urlencoded': Post } }; responses: { 200: Json<Post> } } };
  '/media': {
    get: {
      responses: {
        200: { content: { 'application/json': Post; 'application/ld+json': { '@id': string }; 'text/html': string } };
      };
    };
  };
  '/vnd': { get: { responses: { 200: { content: { 'application/vnd.api+json': Post } } } } };
  '/private': { get: { responses: { 200: Json<Post> } } };
  '/styles/{simple}/{.label}/{;matrix}/{list*}/{.labels*}/{;matrices*}': {
    get: {
      parameters: { path: Record<'simple' | 'label' | 'matrix' | 'list' | 'labels' | 'matrices', string | number | (string | number)[]> };
      responses: { 200: Json<Post> };
    };
  };
}

const spec: ProviderSpec<CredentialProfile> = {
  slug: 'compat',
  defaultBaseUrl: doc.servers[0].url,
  auth: { credentials: [{ Token: { type: 'bearer', header: 'Authorization', scheme: 'Bearer' } }] },
  operations: operationMeta(doc).meta,
};

export const createPorticoClient = defineClient<paths, CredentialInput, Record<never, never>, CredentialProfile>(
  spec,
  createCredentialAuthenticator,
);

/** Options both clients take; each gets the same, so a difference on the wire is the client's. */
export type Options = Omit<ClientOptions<CredentialInput>, 'fetch'> & Record<string, unknown>;

/** A request as it reached fetch: what a server would see, and the fetch options beside it. */
export interface Wire {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  credentials: RequestCredentials;
  cache: RequestCache;
  mode: RequestMode;
  keepalive: boolean;
  redirect: RequestRedirect;
  /** An undici option (openapi-fetch's `requestInitExt`, or a call's own), found in fetch's init or on the Request. */
  dispatcher: unknown;
  /** The class of the Request fetch was given, when it was given one. */
  requestClass: string | undefined;
  /** The names of what came beside the request: fetch's init, and the Request's own properties. */
  initKeys: string[];
}

export type Handler = (request: Request) => Response | Promise<Response>;

/** What the API answers by default: the list of posts, or a post. */
const answer: Handler = (request) =>
  request.method === 'GET' && new URL(request.url).pathname.endsWith('/posts')
    ? Response.json([])
    : Response.json({ id: 1, title: 'hello' });

/** A fetch that answers with `handler` and notes each request, honouring the signal as fetch does. */
export function observer(handler: Handler = answer) {
  const wire: Wire[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.signal.aborted) throw request.signal.reason;
    const answered = request.clone();
    const own = (key: string) => (init as Record<string, unknown> | undefined)?.[key] ?? (input as unknown as Record<string, unknown>)[key];
    wire.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: request.body === null ? undefined : await request.text(),
      credentials: request.credentials,
      cache: request.cache,
      mode: request.mode,
      keepalive: request.keepalive,
      redirect: request.redirect,
      dispatcher: own('dispatcher'),
      requestClass: input instanceof Request ? input.constructor.name : undefined,
      initKeys: [...Object.keys(init ?? {}), ...(input instanceof Request ? Object.keys(input) : [])],
    });
    return handler(answered);
  };
  return { wire, fetch };
}

// One scenario drives both clients, whose types differ only in what a call resolves with.
export type AnyClient = any;

/** The two clients under test, each over its own observer. */
export const CLIENTS = {
  'openapi-fetch': (options: Options, fetch: typeof globalThis.fetch): AnyClient =>
    createFetchClient<paths>({ baseUrl: doc.servers[0].url, ...options, fetch: fetch as (input: Request) => Promise<Response> }),
  portico: (options: Options, fetch: typeof globalThis.fetch): AnyClient => createPorticoClient({ ...options, fetch }),
};

/** Each client's path-based form: openapi-fetch's own, and Portico's over its client. */
export const PATH_BASED = {
  'openapi-fetch': (client: AnyClient): AnyClient => wrapFetchClient(client),
  portico: (client: AnyClient): AnyClient => wrapAsPathBasedClient(client),
};
