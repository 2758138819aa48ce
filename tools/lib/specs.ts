// Reading provider specs: shared by the generator, the docs builder, the
// scaffold and the tests, so all of them agree on what a provider is.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_SCHEMA, load } from 'js-yaml';
import { pointerTokens } from '../../packages/auth/src/pointer.ts';

/** The repository; PORTICO_ROOT points the tools at another tree (the drift check's own test uses it). */
export const ROOT = process.env.PORTICO_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export type Json = Record<string, any>;

export interface Operation {
  method: (typeof HTTP_METHODS)[number];
  path: string;
  op: Json;
  pathItem: Json;
}

export function specPath(slug: string): string {
  return join(ROOT, 'specs', slug, 'openapi.yaml');
}

export function listProviders(): string[] {
  return readdirSync(join(ROOT, 'specs'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(specPath(d.name)))
    .map((d) => d.name)
    .sort();
}

export function loadSpec(slug: string): Json {
  const text = readFileSync(specPath(slug), 'utf8');
  // JSON is YAML too, but a YAML parser takes seconds on a 13 MB document that JSON.parse reads in milliseconds.
  // js-yaml rather than `yaml` (kept for editing files in place): 13x faster on a 5,000-operation spec
  // (0.36 s against 4.8 s), the same values for every spec here with the YAML 1.2 core schema
  // (so a date stays a string, as in `yaml`).
  return (/^\s*\{/.test(text) ? JSON.parse(text) : load(text, { schema: CORE_SCHEMA })) as Json;
}

export function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, pathItem] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      if (pathItem[method]) out.push({ method, path, op: pathItem[method], pathItem });
    }
  }
  return out;
}

/** Resolves a local `#/...` reference; other values pass through. */
export function deref<T = Json>(doc: Json, value: any): T {
  let v = value;
  for (let i = 0; v && typeof v === 'object' && typeof v.$ref === 'string' && i < 32; i++) {
    v = pointerTokens(v.$ref.replace(/^#/, '')).reduce((o: any, k: string) => o?.[k], doc);
  }
  return v as T;
}

/**
 * The spec's first server with its variables at their defaults. A default
 * with a character that ends a URL's host or path (`/ ? # @ \ :`, whitespace)
 * is refused: in `https://{tenant}.api.example.com` the default `evil.example/`
 * would move the host, while the URL reads as the provider's. A variable that
 * is the whole URL, or all of it before a path (`{baseUrl}/v2`), names its host
 * in plain sight and may hold a URL.
 */
export function defaultServerUrl(doc: Json): string {
  const server = doc.servers?.[0];
  if (!server) throw new Error('the spec has no servers');
  const url = String(server.url);
  return url.replace(/\{([^}]+)\}/g, (whole: string, name: string, at: number) => {
    const v = server.variables?.[name]?.default;
    if (v === undefined) throw new Error(`server variable ${name} has no default`);
    const wholeUrl = at === 0 && /^(\/|$)/.test(url.slice(whole.length));
    if (!wholeUrl && /[/?#@\\:\s]/.test(String(v)))
      throw new Error(
        `server variable ${JSON.stringify(name)} has the default ${JSON.stringify(String(v))}, with one of / ? # @ \\ : or whitespace, which could move the URL's host`,
      );
    return String(v);
  });
}

/**
 * A spec imported by `pnpm new-provider <slug> --from` carries
 * `x-portico-imported` (its source and SHA-256); it is linted with the imported
 * rule set and may lack what the house rules require (examples, summaries, 4xx).
 */
export const isImported = (doc: Json): boolean => doc['x-portico-imported'] !== undefined;

/** The rule set an imported spec's redocly.yaml entry extends, relative to the tree. */
export const IMPORTED_RULES = 'tools/redocly/imported.yaml';

export function packageName(slug: string): string {
  return `@portico/${slug}`;
}

/** A schema's properties with those of its allOf parts. */
export function allProperties(doc: Json, schema: Json): Json {
  return Object.assign({}, ...[schema, ...(schema.allOf ?? [])].map((part: Json) => deref(doc, part)?.properties ?? {}));
}

/** A schema's required names with those of its allOf parts. */
export function allRequired(doc: Json, schema: Json): string[] {
  return [schema, ...(schema.allOf ?? [])].flatMap((part: Json) => deref(doc, part)?.required ?? []);
}
