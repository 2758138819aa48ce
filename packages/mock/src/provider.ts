// A provider as the mock serves it: its operations laid out on one origin
// (each at its server's path plus its own, so a host of its own, like an
// authorization server, keeps its paths), and its auth endpoints found.
import type { AuthProfile } from '@portico/auth';
import type { OperationMeta, Shape } from '@portico/runtime';
import { MockError } from './errors.js';
import { ENDPOINTS } from './facts.js';
import { deref, type Json } from './values.js';

/** What the generator writes per provider. */
export interface ProviderData {
  readonly slug: string;
  /** The runtime's per-operation metadata (tools/lib/meta.ts), keyed `METHOD /path`. */
  readonly meta: Readonly<Record<string, OperationMeta>>;
  readonly document: Json;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface Route {
  /** `METHOD /path` as the spec writes it. */
  readonly key: string;
  readonly method: string;
  readonly operationId: string;
  readonly op: Json;
  readonly pathItem: Json;
  readonly meta: OperationMeta;
  /** The path on the mock: the server's path, then the operation's. */
  readonly path: string;
  /** The real origin (scheme, host, port) the spec serves it from. */
  readonly origin: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

/** The server URL an operation is served from (its own, its path item's or the document's), variables at their defaults. */
function serverOf(doc: Json, pathItem: Json, op: Json): URL {
  const server = (op.servers ?? pathItem.servers ?? doc.servers ?? [])[0] ?? { url: '/' };
  const url = String(server.url).replace(/\{([^}]+)\}/g, (_, name: string) => String(server.variables?.[name]?.default ?? ''));
  try {
    return new URL(url, 'https://provider.invalid');
  } catch {
    throw new MockError('invalid_spec', `the server URL ${JSON.stringify(url)} does not parse`);
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Provider {
  readonly slug: string;
  readonly doc: Json;
  readonly profile: AuthProfile;
  readonly routes: readonly Route[];
  readonly #byId = new Map<string, Route>();

  constructor(data: ProviderData) {
    this.slug = data.slug;
    this.doc = data.document;
    this.profile = data.document['x-portico-auth'];
    if (!this.profile?.grants)
      throw new MockError('unsupported', `${data.slug}: the mock serves OAuth profiles (x-portico-auth with grants); this one has none`);
    const routes: Route[] = [];
    for (const [path, pathItem] of Object.entries<Json>(this.doc.paths ?? {})) {
      for (const method of METHODS) {
        const op = pathItem[method];
        if (!op) continue;
        const key = `${method.toUpperCase()} ${path}`;
        const server = serverOf(this.doc, pathItem, op);
        const full = server.pathname.replace(/\/+$/, '') + path;
        const params: string[] = [];
        const pattern = new RegExp(
          `^${full
            .split(/(\{[^}]+\})/)
            .map((part) => {
              const name = /^\{([^}]+)\}$/.exec(part)?.[1];
              if (name === undefined) return escapeRegExp(part);
              params.push(name);
              return '([^/]+)';
            })
            .join('')}$`,
        );
        const route: Route = {
          key,
          method: method.toUpperCase(),
          operationId: typeof op.operationId === 'string' ? op.operationId : key,
          op,
          pathItem,
          meta: data.meta[key] ?? {},
          path: full,
          origin: server.origin,
          pattern,
          params,
        };
        routes.push(route);
        this.#byId.set(route.operationId, route);
      }
    }
    this.routes = routes;
  }

  /** The route an operationId names. */
  route(operationId: string): Route | undefined {
    return this.#byId.get(operationId);
  }

  /** The operation a request's method and path reach, with its path parameters; `methods` lists the methods the path has when none matches. */
  match(method: string, path: string): { route?: Route; values?: Record<string, string>; methods: string[] } {
    const methods: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (route.method !== method) {
        methods.push(route.method);
        continue;
      }
      const values: Record<string, string> = {};
      route.params.forEach((name, i) => {
        values[name] = safeDecode(found[i + 1]!);
      });
      return { route, values, methods };
    }
    return { methods };
  }

  /** The route of one of the profile's auth endpoints: the operation it names, else the operation at its URL. */
  endpoint(part: (typeof ENDPOINTS)[number][0]): Route | undefined {
    const endpoint = this.profile[part];
    if (!endpoint) return undefined;
    if (endpoint.operationId) {
      const route = this.route(endpoint.operationId);
      if (route) return route;
    }
    const method = part === 'authorization' ? 'GET' : 'POST';
    const path = endpoint.url.startsWith('/') ? this.apiPath() + endpoint.url : new URL(endpoint.url).pathname;
    return this.match(method, path).route;
  }

  /** The path of the API's base on the mock (the document's first server). */
  apiPath(): string {
    return serverOf(this.doc, {}, {}).pathname.replace(/\/+$/, '');
  }

  /** The path the profile's relative endpoint URLs resolve against: the server of the first endpoint given as a path. */
  authPath(): string {
    for (const [part] of ENDPOINTS) {
      const endpoint = this.profile[part];
      const route = endpoint?.url.startsWith('/') ? this.endpoint(part) : undefined;
      if (route && endpoint) return route.path.slice(0, route.path.length - endpoint.url.length);
    }
    return this.apiPath();
  }

  /**
   * Each real origin the spec serves from, with a pattern of the URLs
   * (origin and path, no query) of its operations: what MSW's handlers
   * match, so any other URL on the provider's host is left to the user's
   * handlers and to MSW's unhandled-request check.
   */
  served(): { origin: string; pattern: RegExp }[] {
    return [...new Set(this.routes.map((route) => route.origin))].map((origin) => {
      const paths = this.routes.filter((route) => route.origin === origin).map((route) => route.pattern.source.slice(1, -1));
      return { origin, pattern: new RegExp(`^${escapeRegExp(origin)}(?:${[...new Set(paths)].join('|')})$`) };
    });
  }

  /** The response object an operation documents for a status (its `$ref` followed). */
  responseOf(route: Route, status: string): Json | undefined {
    const responses = route.op.responses ?? {};
    return deref(this.doc, responses[status] ?? undefined);
  }

  /** The XML shape the client decodes a response of `status` with. */
  xmlShape(route: Route, status: string): Shape | undefined {
    return route.meta.shapes?.[status] ?? route.meta.shapes?.default;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
