import createFetchClient, { type Client, type ClientOptions as FetchClientOptions } from 'openapi-fetch';
import { createAuthenticator, type AuthInput, type AuthProfile, type Authenticator } from '@portico/auth';
import { parseBody, serializeForm } from './body.js';
import type { XmlSchema } from './xml.js';

/** What the runtime needs to know about one operation, generated from the spec. */
export interface OperationMeta {
  /** The operation requires the token described by the auth profile. */
  readonly auth?: true;
  /** Request body media type, when it is not JSON. */
  readonly body?: 'form';
  /** Decoding schemas of XML responses, by status code (or `default`). */
  readonly xml?: Readonly<Record<string, XmlSchema>>;
}

/** The constants a provider package is generated with. */
export interface ProviderSpec {
  readonly slug: string;
  readonly defaultBaseUrl: string;
  readonly auth: AuthProfile;
  /** Keyed by `METHOD /path/template`. */
  readonly operations: Readonly<Record<string, OperationMeta>>;
}

export interface ClientOptions<Auth> {
  /** Overrides the spec's server, e.g. a sandbox or a local emulator. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Credentials or a session; the token is then put on every operation that requires it. */
  auth?: Auth;
  headers?: FetchClientOptions['headers'];
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'PATCH' | 'TRACE';
const METHODS: readonly Method[] = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'];
type Result = { data?: unknown; error?: unknown; response: Response };

const xmlFor = (meta: OperationMeta, status: number) => meta.xml?.[String(status)] ?? meta.xml?.default;

/**
 * Binds a provider's generated spec constants to openapi-fetch. The provider
 * package exports the result as its `createClient`.
 */
export function defineClient<Paths extends {}, Auth extends AuthInput = AuthInput>(spec: ProviderSpec) {
  return function createClient(options: ClientOptions<Auth> = {}): Client<Paths> {
    const baseUrl = (options.baseUrl ?? spec.defaultBaseUrl).replace(/\/+$/, '');
    const baseFetch = options.fetch ?? globalThis.fetch;
    const ownOrigin = new URL(baseUrl).origin;
    const authenticator: Authenticator | undefined =
      options.auth === undefined ? undefined : createAuthenticator(spec.auth, options.auth, { baseUrl, fetch: baseFetch });
    const client = createFetchClient<Paths>({ baseUrl, fetch: baseFetch, headers: options.headers });

    // openapi-fetch hands the fully built Request to `fetch`; doing auth here
    // (rather than in middleware) keeps user middleware intact and lets a 401
    // be replayed from a clone taken before the body is consumed.
    async function send(request: Request, meta: OperationMeta, replayable: boolean): Promise<Response> {
      if (!meta.auth || !authenticator || new URL(request.url).origin !== ownOrigin) return baseFetch(request);
      const retry = replayable ? request.clone() : undefined;
      const header = await authenticator.getAuthorization(request.signal);
      request.headers.set(header.name, header.value);
      const response = await baseFetch(request);
      if (response.status !== 401 || !retry) return response;
      if (!(await authenticator.handleUnauthorized(header.value, request.signal))) return response;
      const fresh = await authenticator.getAuthorization(request.signal);
      retry.headers.set(fresh.name, fresh.value);
      await response.body?.cancel();
      return baseFetch(retry);
    }

    const call = (method: Method) => async (path: string, init: Record<string, unknown> = {}) => {
      const meta = spec.operations[`${method} ${path}`] ?? {};
      const replayable = !(init.body instanceof ReadableStream);
      // Error bodies are parsed here, by content type, from a copy taken
      // before openapi-fetch reads the original as text.
      let errorCopy: Response | undefined;
      const extra: Record<string, unknown> = {
        fetch: async (request: Request) => {
          const response = await send(request, meta, replayable);
          if (!response.ok && response.status !== 204) errorCopy = response.clone();
          return response;
        },
      };
      const parseAs = init.parseAs;
      if (parseAs === undefined) extra.parseAs = 'stream';
      if (meta.body === 'form') {
        const headers = new Headers(init.headers as HeadersInit | undefined);
        if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
        extra.headers = headers;
        extra.bodySerializer ??= serializeForm;
      }
      const result = (await (client[method] as (p: string, i: object) => Promise<Result>)(path, { ...init, ...extra })) as Result;
      if (parseAs !== undefined) return result;
      const { response } = result;
      if (response.ok) {
        if (result.data !== undefined) result.data = await parseBody(response, xmlFor(meta, response.status));
      } else if (errorCopy) {
        result.error = await parseBody(errorCopy, xmlFor(meta, response.status));
      }
      return result;
    };
    const wrapped = { ...client } as Record<string, unknown>;
    for (const method of METHODS) wrapped[method] = call(method);
    wrapped.request = (method: string, path: string, init?: Record<string, unknown>) => call(method.toUpperCase() as Method)(path, init);
    return wrapped as unknown as Client<Paths>;
  };
}
