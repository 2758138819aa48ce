// What the CLI knows about providers (generated from the specs) and the
// checks `portico call` makes before sending anything.
import { CliError } from './errors.js';
import { catalog, packages } from './generated/catalog.js';

interface CatalogParam {
  name: string;
  in: string;
  required: boolean;
}

interface CatalogOperation {
  method: string;
  path: string;
  operationId: string;
  summary: string;
  params: CatalogParam[];
  body: boolean;
  secured: boolean;
}

export interface CatalogProvider {
  slug: string;
  title: string;
  auth: { description: string; grants: string[]; pkce: boolean; scopes: string[]; relativeEndpoints: boolean; credentials: string[][] };
  operations: CatalogOperation[];
}

export type Catalog = CatalogProvider[];
export type Slug = keyof typeof packages;

export function providers(): Catalog {
  return catalog;
}

export function findProvider(slug: string): CatalogProvider & { slug: Slug } {
  const found = catalog.find((p) => p.slug === slug);
  if (!found)
    throw new CliError('unknown_provider', `unknown provider "${slug}"; known providers: ${catalog.map((p) => p.slug).join(', ')}`);
  return found as CatalogProvider & { slug: Slug };
}

/** A user's path (the template, or a concrete one like /accounts/acct-1) matched against a template; path values by name. */
function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  if (template === path) return {};
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+?)';
  });
  const match = new RegExp(`^${source}$`).exec(path);
  if (!match) return undefined;
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  } catch {
    throw new CliError('invalid_path', `${path} has a malformed percent-encoding`);
  }
}

export interface ResolvedCall {
  operation: CatalogOperation;
  params: { path?: Record<string, string>; query?: Record<string, string | string[]>; header?: Record<string, string> };
}

/** Finds the operation and sorts `name=value` pairs into path, query and header parameters, refusing anything the spec does not list. */
export function resolveCall(provider: CatalogProvider, method: string, path: string, pairs: string[]): ResolvedCall {
  const verb = method.toUpperCase();
  const list = provider.operations.map((o) => `${o.method} ${o.path}`).join(', ');
  const candidates = provider.operations
    .map((operation) => ({ operation, values: matchTemplate(operation.path, path) }))
    .filter((c) => c.values);
  if (candidates.length === 0) throw new CliError('unknown_path', `${provider.slug} has no path ${path}; its operations: ${list}`);
  // An exact template wins over one that only matches through a parameter.
  const candidate = candidates
    .filter((c) => c.operation.method === verb)
    .sort((a, b) => Object.keys(a.values!).length - Object.keys(b.values!).length)[0];
  if (!candidate) {
    throw new CliError(
      'unknown_method',
      `${provider.slug} has no ${verb} ${path}; methods there: ${candidates.map((c) => c.operation.method).join(', ')}`,
    );
  }
  const { operation } = candidate;
  const params: ResolvedCall['params'] = {};
  for (const [name, value] of Object.entries(candidate.values!)) {
    if (value !== `{${name}}`) (params.path ??= {})[name] = value;
  }
  const valid = operation.params.map((p) => `${p.name} (${p.in}${p.required ? ', required' : ''})`).join(', ') || 'none';
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError('invalid_param', `--param takes name=value, got "${pair}"`);
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const param = operation.params.find((p) => p.name === name);
    if (!param) throw new CliError('unknown_param', `${verb} ${operation.path} has no parameter "${name}"; valid parameters: ${valid}`);
    if (param.in === 'query') {
      const query = (params.query ??= {});
      const previous = query[name];
      query[name] = previous === undefined ? value : [previous, value].flat();
    } else if (param.in === 'path' || param.in === 'header') {
      (params[param.in] ??= {})[name] = value;
    } else {
      throw new CliError('unsupported_param', `parameter "${name}" is sent in ${param.in}, which portico call does not set`);
    }
  }
  const missing = operation.params.filter((p) => p.required && params[p.in as 'path' | 'query' | 'header']?.[p.name] === undefined);
  if (missing.length)
    throw new CliError(
      'missing_param',
      `${verb} ${operation.path} needs ${missing.map((p) => `${p.name} (${p.in})`).join(', ')}; pass --param name=value`,
    );
  return { operation, params };
}

export { packages };
