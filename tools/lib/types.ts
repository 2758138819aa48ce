// TypeScript types for a spec (openapi-typescript's `paths`, `components`,
// ...), from the parsed document.
import { createRequire } from 'node:module';
import type { GlobalContext, OpenAPI3, SchemaObject, TransformNodeOptions } from 'openapi-typescript';
import type TS from 'typescript';
import { pointerTokens } from '../../packages/auth/src/pointer.ts';
import { HTTP_METHODS, type Json } from './specs.ts';

const require = createRequire(import.meta.url);
// Required, not imported: openapi-typescript's ES module build imports
// TypeScript as an ES module, and Node then scans all 9 MB of typescript.js
// for its export names; its CommonJS build loads in half the time (0.42
// against 0.79 s), which is a tenth of generating a 5,000-operation API.
// TypeScript itself the same way, so that the nodes built here come from the
// same module as openapi-typescript's.
const {
  default: openapiTS,
  addJSDocComment,
  astToString,
  createRef,
  resolveRef,
  scanDiscriminators,
  stringToAST,
  transformSchema,
  transformSchemaObject,
  tsPropertyIndex,
} = require('openapi-typescript') as typeof import('openapi-typescript');
const ts = require('typescript') as typeof TS;

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
  const request = requestSchemas();
  if (external) return finish(await openapiTS(source, { ...OPTIONS, postTransform: request.postTransform }), request);
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
    postTransform: request.postTransform,
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
  return finish(transformSchema(schema, ctx), request);
}

/** The document's types, with the request schemas they refer to and openapi-typescript's WithRequired helper replaced. */
function finish(nodes: TS.Node[], request: ReturnType<typeof requestSchemas>): string {
  return astToString([...nodes, ...request.declarations()].map((node) => (isWithRequired(node) ? WITH_REQUIRED : node)));
}

/**
 * openapi-typescript marks the properties an allOf makes required with
 * `WithRequired<Base, "a" | "b">`, whose helper demands `K extends keyof T`.
 * That fails (TS2344) when the base is nullable (`X | null`, keyof never) or
 * a union whose members do not all have the keys: both valid documents.
 * Portico compiles schema.ts as source, so its helper takes any keys and
 * requires, on each member of the base, those the member has. `null` has
 * none, and an object that must have properties is not null: the nullable
 * base's null drops out, as it does from openapi-typescript's intersections.
 * The helper's name and uses stay openapi-typescript's; only its definition
 * differs, so output without WithRequired is unchanged.
 */
const WITH_REQUIRED = stringToAST(
  'type WithRequired<T, K extends PropertyKey> = T extends unknown ? T & Required<Pick<T, K & keyof T>> : never;',
)[0] as TS.TypeAliasDeclaration;

const isWithRequired = (node: TS.Node) => ts.isTypeAliasDeclaration(node) && node.name.text === 'WithRequired';

/** The name of the interface that holds request schemas. */
const REQUEST = 'requestSchemas';

const METHODS = new Set<string>(HTTP_METHODS);
const REQUEST_PARTS = new Set(['requestBody', 'parameters']);

/**
 * Is the schema at `path` (openapi-typescript's pointer to what it is
 * transforming) part of what a caller sends: a request body or a parameter
 * of an operation or path item, or a component request body or parameter?
 * Webhooks are not: their requests are what the provider sends, like a response.
 */
function isRequestPath(path = ''): boolean {
  // Asked of every schema in the document: most are not in a request, and say so without a parse.
  if (!path.includes('/requestBod') && !path.includes('/parameters')) return false;
  const tokens = pointerTokens(path.replace(/^#/, ''));
  if (tokens[0] === 'components' && (tokens[1] === 'requestBodies' || tokens[1] === 'parameters')) return true;
  // What follows a path item's key: its own `parameters`, or a method and the operation's part.
  const [part, operationPart = ''] =
    tokens[0] === 'paths' ? tokens.slice(2) : tokens[0] === 'components' && tokens[1] === 'pathItems' ? tokens.slice(3) : [];
  return part === 'parameters' || (METHODS.has(part ?? '') && REQUEST_PARTS.has(operationPart));
}

const stringLiteral = (node: TS.TypeNode) =>
  ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal) ? node.literal.text : undefined;

/** The component a `components["schemas"]["Name"]` node (openapi-typescript's reference to a schema) names. */
function schemaName(node: TS.Node): string | undefined {
  if (!ts.isIndexedAccessTypeNode(node) || !ts.isIndexedAccessTypeNode(node.objectType)) return undefined;
  const { objectType: root, indexType } = node.objectType;
  if (!ts.isTypeReferenceNode(root) || !ts.isIdentifier(root.typeName) || root.typeName.text !== 'components') return undefined;
  return stringLiteral(indexType) === 'schemas' ? stringLiteral(node.indexType) : undefined;
}

/** Keywords whose values are data, not schemas: a `properties` key in an example is not a property. */
const DATA = new Set(['example', 'examples', 'enum', 'const', 'default']);

/**
 * What in one component schema decides whether requests need a variant of
 * it: does it (not counting what it refers to) have a property with a
 * default that it does not list as required, and which component schemas
 * does it refer to?
 */
function surveyComponent(schema: unknown): { defaulted: boolean; refs: string[] } {
  const found = { defaulted: false, refs: [] as string[] };
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    const node = value as Json;
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/schemas/')) {
      const [, , name] = pointerTokens(node.$ref.slice(1));
      found.refs.push(decodeURIComponent(name!));
    }
    if (node.properties && typeof node.properties === 'object') {
      const required: unknown[] = Array.isArray(node.required) ? node.required : [];
      for (const [key, property] of Object.entries<Json>(node.properties)) {
        if (property && typeof property === 'object' && property.default !== undefined && !required.includes(key)) found.defaulted = true;
      }
    }
    for (const [key, item] of Object.entries(node)) if (!DATA.has(key) && !key.startsWith('x-')) walk(item);
  };
  walk(schema);
  return found;
}

/**
 * openapi-typescript's `defaultNonNullable` makes a property with a default
 * required, which is right for a response (the server fills it in) and wrong
 * for a request (the caller may leave it out). It tells the two apart by the
 * schema's place in the document, so a component schema used by both a
 * request body and a response is typed once, as a response: a body with only
 * the required fields was refused.
 *
 * So requests refer to variants of the component schemas, transformed again
 * without `defaultNonNullable`, in an interface of their own: each reference
 * to `components["schemas"]["X"]` in a request becomes `requestSchemas["X"]`
 * when X, or a schema it refers to, has a defaulted property it does not
 * require; references inside a variant follow the same rule. Responses and
 * every other use of `components` are untouched, and a document without such
 * schemas gets no variant at all.
 *
 * Done with openapi-typescript's own hook and transformer rather than by
 * editing its output: `postTransform` sees each schema's type with its place
 * in the document (openapi-typescript's own test of what is a request), and
 * the variants are what openapi-typescript makes of the same schemas.
 */
function requestSchemas() {
  let ctx: GlobalContext | undefined;
  const components = new Map<string, ReturnType<typeof surveyComponent>>();
  const verdicts = new Map<string, boolean>();
  /** The schemas requests refer to through a variant, in the order they were first met (new ones are added while variants are made). */
  const used = new Set<string>();

  const component = (name: string) => {
    let found = components.get(name);
    if (!found) components.set(name, (found = surveyComponent(ctx!.resolve(createRef(['components', 'schemas', name])))));
    return found;
  };

  /**
   * Does the component, or one it reaches through references, have a
   * defaulted property it does not require? One depth-first search: when it
   * finds one, every schema on the path to it has the answer yes; when it
   * finds none, every schema it saw has the answer no.
   */
  function needsVariant(start: string): boolean {
    const seen = new Set<string>();
    const path: string[] = [];
    const search = (name: string): boolean => {
      const verdict = verdicts.get(name);
      if (verdict !== undefined) return verdict;
      if (seen.has(name)) return false;
      seen.add(name);
      path.push(name);
      const { defaulted, refs } = component(name);
      if (defaulted || refs.some(search)) return true;
      path.pop();
      return false;
    };
    const found = search(start);
    for (const name of found ? path : seen) verdicts.set(name, found);
    return found;
  }

  /**
   * Types already redirected: postTransform sees a schema's type after those
   * of the schemas inside it, which it holds as they were returned, so a
   * walk stops at them instead of going over each level again.
   */
  const redirected = new WeakSet<TS.Node>();

  /** `type` with each reference to a schema that needs a variant pointing at the variant. */
  function redirect(type: TS.TypeNode): TS.TypeNode {
    const visit = (node: TS.Node): TS.Node => {
      if (redirected.has(node)) return node;
      const name = schemaName(node);
      if (name === undefined || !needsVariant(name)) return ts.visitEachChild(node, visit, undefined);
      used.add(name);
      return ts.factory.createIndexedAccessTypeNode(
        ts.factory.createTypeReferenceNode(REQUEST),
        ts.factory.createLiteralTypeNode(ts.factory.createStringLiteral(name)),
      );
    };
    const result = ts.visitNode(type, visit) as TS.TypeNode;
    redirected.add(result);
    return result;
  }

  return {
    postTransform(type: TS.TypeNode, options: TransformNodeOptions): TS.TypeNode | undefined {
      ctx ??= options.ctx;
      return isRequestPath(options.path) ? redirect(type) : undefined;
    },

    /** The interface of the variants the requests refer to, and any helper they need beyond the document's; none without variants. */
    declarations(): TS.Node[] {
      if (!ctx || !used.size) return [];
      const footer = ctx.injectFooter.length;
      const variantCtx: GlobalContext = { ...ctx, defaultNonNullable: false, postTransform: redirect };
      const members: TS.TypeElement[] = [];
      for (const name of used) {
        const path = createRef(['components', 'schemas', name]);
        const schema = ctx.resolve<SchemaObject>(path)!;
        const member = ts.factory.createPropertySignature(
          undefined,
          tsPropertyIndex(name),
          undefined,
          transformSchemaObject(schema, { path, schema, ctx: variantCtx }),
        );
        addJSDocComment(schema, member);
        members.push(member);
      }
      const declaration = ts.factory.createInterfaceDeclaration(undefined, REQUEST, undefined, undefined, members);
      ts.addSyntheticLeadingComment(
        declaration,
        ts.SyntaxKind.MultiLineCommentTrivia,
        '* Component schemas as a request sends them: a property with a default may be left out. `components` has them as responses hold them. ',
        true,
      );
      return [declaration, ...ctx.injectFooter.slice(footer)];
    },
  };
}
