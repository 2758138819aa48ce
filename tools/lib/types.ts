// TypeScript types for a spec (openapi-typescript's `paths`, `components`,
// ...), from the parsed document.
import openapiTS, { astToString, resolveRef, scanDiscriminators, transformSchema, type GlobalContext, type OpenAPI3 } from 'openapi-typescript';
import type { Json } from './specs.ts';

const OPTIONS = { alphabetize: false, exportType: false, silent: true } as const;

function onlyLocalRefs(value: unknown): boolean {
  if (!value || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(onlyLocalRefs);
  for (const [key, item] of Object.entries(value)) {
    if (key === '$ref' && typeof item === 'string' && !item.startsWith('#')) return false;
    if (!onlyLocalRefs(item)) return false;
  }
  return true;
}

/**
 * openapiTS() lints and bundles the document with Redocly before it
 * transforms it. For a document whose references are all local, bundling
 * changes nothing, and the repository lints specs itself (and leaves
 * third-party ones alone): on GitHub's 1,223-operation spec those two walks
 * are over half of generation. So such a document goes straight to
 * transformSchema with openapiTS's own defaults; any other goes through
 * openapiTS. The drift check (`pnpm generate:check`) shows both give the same
 * output.
 */
export async function typesSource(doc: Json, source: URL): Promise<string> {
  if (!onlyLocalRefs(doc)) return astToString(await openapiTS(source, OPTIONS));
  const schema = structuredClone(doc) as OpenAPI3;
  const ctx: GlobalContext = {
    additionalProperties: false,
    alphabetize: OPTIONS.alphabetize,
    arrayLength: false,
    defaultNonNullable: true,
    discriminators: scanDiscriminators(schema, OPTIONS),
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
    resolve: <T>($ref: string) => resolveRef<T>(schema, $ref, { silent: OPTIONS.silent }),
  };
  return astToString(transformSchema(schema, ctx));
}
