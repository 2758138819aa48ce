// TypeScript types for a spec (openapi-typescript's `paths`, `components`,
// ...), from the parsed document.
import { createRequire } from 'node:module';
import type { GlobalContext, OpenAPI3 } from 'openapi-typescript';
import type { Json } from './specs.ts';

// Required, not imported: openapi-typescript's ES module build imports
// TypeScript as an ES module, and Node then scans all 9 MB of typescript.js
// for its export names; its CommonJS build loads in half the time (0.42
// against 0.79 s), which is a tenth of generating a 5,000-operation API.
const {
  default: openapiTS,
  astToString,
  resolveRef,
  scanDiscriminators,
  transformSchema,
} = createRequire(import.meta.url)('openapi-typescript') as typeof import('openapi-typescript');

const OPTIONS = { alphabetize: false, exportType: false, silent: true } as const;

/**
 * One walk over the document for two questions: does it refer outside
 * itself, and does any schema have a discriminator? (openapiTS's
 * scanDiscriminators walks the whole document again to find none, a tenth
 * of generating a large API.)
 */
function survey(value: unknown, found = { external: false, discriminator: false }): typeof found {
  if (!value || typeof value !== 'object' || found.external) return found;
  for (const [key, item] of Object.entries(value)) {
    if (key === '$ref' && typeof item === 'string' && !item.startsWith('#')) found.external = true;
    if (key === 'discriminator' && (item as Json | null)?.propertyName) found.discriminator = true;
    survey(item, found);
  }
  return found;
}

/**
 * openapiTS() lints and bundles the document with Redocly before it
 * transforms it. For a document whose references are all local, bundling
 * changes nothing, and the repository lints specs itself (and leaves
 * third-party ones alone): on GitHub's 1,223-operation spec those two walks
 * are over half of generation. So such a document goes straight to
 * transformSchema with openapiTS's own defaults; any other goes through
 * openapiTS. The drift check (`pnpm generate:check`) shows both give the same
 * output. `doc` is consumed: read it for anything else first.
 */
export async function typesSource(doc: Json, source: URL): Promise<string> {
  const { external, discriminator } = survey(doc);
  if (external) return astToString(await openapiTS(source, OPTIONS));
  // Not copied: transformSchema rewrites discriminator properties in place,
  // so the caller hands over a document it has finished with.
  const schema = doc as OpenAPI3;
  // openapiTS's resolver parses the pointer on every call; a large API refers
  // to a handful of components tens of thousands of times.
  const resolved = new Map<string, unknown>();
  const ctx: GlobalContext = {
    additionalProperties: false,
    alphabetize: OPTIONS.alphabetize,
    arrayLength: false,
    defaultNonNullable: true,
    discriminators: discriminator ? scanDiscriminators(schema, OPTIONS) : { objects: {}, refsHandled: [] },
    emptyObjectsUnknown: false,
    enum: false,
    enumValues: false,
    conditionalEnums: false,
    dedupeEnums: false,
    excludeDeprecated: false,
    exportType: OPTIONS.exportType,
    immutable: false,
    rootTypes: false,
    rootTypesNoSchemaPrefix: false,
    rootTypesKeepCasing: false,
    injectFooter: [],
    pathParamsAsTypes: false,
    postTransform: undefined,
    propertiesRequiredByDefault: false,
    redoc: undefined as never,
    silent: OPTIONS.silent,
    inject: undefined,
    transform: undefined,
    transformProperty: undefined,
    makePathsEnum: false,
    generatePathParams: false,
    readWriteMarkers: false,
    resolve: <T>($ref: string): T => {
      if (!resolved.has($ref)) resolved.set($ref, resolveRef<T>(schema, $ref, { silent: OPTIONS.silent }));
      return resolved.get($ref) as T;
    },
  };
  return astToString(transformSchema(schema, ctx));
}
