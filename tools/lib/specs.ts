// Reading provider specs: shared by the generator, the docs builder, the
// scaffold and the tests, so all of them agree on what a provider is.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_SCHEMA, load } from 'js-yaml';
import type { Json } from '../../packages/mock/src/values.ts';

/** The repository; PORTICO_ROOT points the tools at another tree (the drift check's own test uses it). */
export const ROOT = process.env.PORTICO_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

// Reading schemas lives with the mock, which needs it at run time; the tools read it from there.
export { allProperties, allRequired, deref, type Json } from '../../packages/mock/src/values.ts';

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
