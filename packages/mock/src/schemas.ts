// Checking values against the spec's schemas (ajv, JSON Schema 2020-12 as
// OpenAPI 3.1 writes them), and reading request bodies the way the spec
// declares them.
import { resolvePointer } from '@portico/auth/internal';
import { decodeXml } from '@portico/runtime/xml';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Provider, Route } from './provider.js';
import { allProperties, deref, type Json, pointerKeys } from './values.js';

// ajv-formats is CommonJS: its function is the default export under Node's ESM loader, `.default` under bundlers.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const XML_TYPE = /^(?:application|text)\/(?:[\w.+-]+\+)?xml$/i;
export const FORM_TYPE = 'application/x-www-form-urlencoded';
export const isJsonType = (type: string | undefined) => type !== undefined && JSON_TYPE.test(type);
export const isXmlType = (type: string | undefined) => type !== undefined && XML_TYPE.test(type);

function newAjv(coerce: boolean): Ajv2020 {
  // strict off: OpenAPI adds keywords of its own (example, xml, discriminator) beside JSON Schema's.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv);
  // OpenAPI's number formats: a JSON number is not range-checked by them here.
  for (const format of ['int32', 'int64', 'float', 'double', 'password']) ajv.addFormat(format, true);
  return ajv;
}

/** The spec's schemas, compiled on first use: for bodies as they are (JSON), and with strings coerced (query, path, form values). */
export class Schemas {
  readonly #provider: Provider;
  readonly #exact = newAjv(false);
  readonly #coercing = newAjv(true);
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(provider: Provider) {
    this.#provider = provider;
    this.#exact.addSchema(provider.doc, 'spec');
    this.#coercing.addSchema(provider.doc, 'spec');
  }

  /**
   * The problems of `value` against the schema at `pointer` in the document
   * (an empty list when it is valid). With `coerce`, strings are read as the
   * numbers and booleans the schema wants, in place.
   */
  problems(pointer: string, value: unknown, coerce = false): string[] {
    const key = `${coerce ? 'c' : 'e'}${pointer}`;
    let validate = this.#compiled.get(key);
    if (!validate) {
      const ref = `spec#${pointer
        .split('/')
        .map((part) => encodeURIComponent(part).replace(/%2F/g, '~1'))
        .join('/')}`;
      validate = (coerce ? this.#coercing : this.#exact).compile({ $ref: ref });
      this.#compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || 'body'} ${e.message ?? 'is invalid'}`);
  }

  /** The JSON pointer of a route's request or response schema in a media type (`schema` of that content). */
  contentPointer(route: Route, where: 'request' | { status: string }, media: string): string | undefined {
    const base = `/paths/${escapeKey(route.key.slice(route.key.indexOf(' ') + 1))}/${route.method.toLowerCase()}`;
    const holder =
      where === 'request'
        ? { pointer: `${base}/requestBody`, value: route.op.requestBody }
        : { pointer: `${base}/responses/${escapeKey(where.status)}`, value: route.op.responses?.[where.status] };
    const target = refTarget(holder.pointer, holder.value);
    const content = deref(this.#provider.doc, holder.value)?.content;
    if (!content?.[media]?.schema) return undefined;
    return `${target}/content/${escapeKey(media)}/schema`;
  }
}

/** A route's parameters (path item's, then the operation's, the latter winning), each with the pointer of its schema. */
export function parametersOf(provider: Provider, route: Route): { param: Json; pointer: string }[] {
  const path = `/paths/${escapeKey(route.key.slice(route.key.indexOf(' ') + 1))}`;
  const list = (holder: Json[] | undefined, base: string) =>
    (holder ?? []).map((p, i) => ({ param: deref<Json>(provider.doc, p), pointer: `${refTarget(`${base}/parameters/${i}`, p)}/schema` }));
  const all = [...list(route.pathItem.parameters, path), ...list(route.op.parameters, `${path}/${route.method.toLowerCase()}`)];
  const byKey = new Map(all.map((entry) => [`${entry.param.in} ${entry.param.name}`, entry]));
  return [...byKey.values()];
}

const escapeKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Where a value that may be a `$ref` really lives, as a pointer. */
function refTarget(pointer: string, value: unknown): string {
  const ref = (value as Json | undefined)?.$ref;
  return typeof ref === 'string' ? ref.replace(/^#/, '') : pointer;
}

/** A request body as the mock reads it. */
export interface ReadBody {
  /** Its media type, lowercased, without parameters. */
  media: string | undefined;
  /** The value: JSON as parsed, a form as an object (guided by the schema), XML decoded by its shape. */
  value: unknown;
  /** Why it could not be read, if it could not. */
  problem?: string;
}

/**
 * A form body as an object: `a[]` (or a repeated key) is a list, `a[b]` a
 * nested object, unless the schema names the key as it is. The objects have
 * no prototype, so a field named `__proto__` (or `__proto__[x]`) is a field
 * like any other, for the schema to judge, never a write to Object.prototype.
 */
export function formObject(doc: Json, schema: Json | undefined, params: URLSearchParams): Json {
  const properties = schema ? allProperties(doc, deref(doc, schema)) : {};
  const named = (key: string) => Object.hasOwn(properties, key);
  const out: Json = Object.create(null);
  const isList = (key: string) => (named(key) && deref<Json>(doc, properties[key])?.type === 'array') || key.endsWith('[]');
  for (const [key, value] of params) {
    const nested = /^([^[\]]+)\[([^[\]]+)\]$/.exec(key);
    if (!named(key) && nested) {
      const [, name, sub] = nested as unknown as [string, string, string];
      const parent = Object.hasOwn(out, name) ? out[name] : (out[name] = Object.create(null));
      if (typeof parent === 'object' && !Array.isArray(parent)) parent[sub] = value;
      continue;
    }
    const name = named(key) || !key.endsWith('[]') ? key : named(key.slice(0, -2)) ? key.slice(0, -2) : key;
    const have = Object.hasOwn(out, name) ? out[name] : undefined;
    if (Array.isArray(have)) have.push(value);
    else if (have !== undefined) out[name] = [have, value];
    else out[name] = isList(key) || isList(name) ? [value] : value;
  }
  return out;
}

/** Reads `text` as the route declares its request body (in `want`, the media type a representation parameter picked). */
export function readBody(provider: Provider, route: Route, text: string, contentType: string | null, want?: string): ReadBody {
  const media = contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
  if (text === '') return { media, value: undefined };
  const content: Json = deref(provider.doc, route.op.requestBody)?.content ?? {};
  if (media === undefined || !Object.hasOwn(content, media)) {
    return {
      media,
      value: undefined,
      problem: `the body's media type ${media ?? '(none)'} is not one of ${Object.keys(content).join(', ') || 'none'}`,
    };
  }
  if (want !== undefined && media !== want) return { media, value: undefined, problem: `this representation takes ${want} bodies` };
  try {
    if (isJsonType(media)) return { media, value: JSON.parse(text) };
    if (media === FORM_TYPE) return { media, value: formObject(provider.doc, content[media]?.schema, new URLSearchParams(text)) };
    if (isXmlType(media) && route.meta.representation?.body) return { media, value: decodeXml(text, route.meta.representation.body) };
  } catch {
    return { media, value: undefined, problem: `the body is not valid ${media}` };
  }
  return { media, value: text };
}

/** The value a pointer reaches, through auth's one JSON Pointer reader. */
export const valueAt = (document: unknown, pointer: string): unknown => resolvePointer(document, pointer);

/** Writes `value` at `pointer` in `document`, creating objects on the way; a pointer to the root is not written. */
export function setAt(document: unknown, pointer: string, value: unknown): void {
  const keys = pointerKeys(pointer);
  const last = keys.pop();
  if (last === undefined || document === null || typeof document !== 'object') return;
  let at = document as Json;
  for (const key of keys) {
    if (at[key] === null || typeof at[key] !== 'object') at[key] = {};
    at = at[key];
  }
  at[last] = value;
}

/** Removes what `pointer` reaches, if anything. */
export function deleteAt(document: unknown, pointer: string): void {
  const keys = pointerKeys(pointer);
  const last = keys.pop();
  const parent = keys.length ? resolvePointer(document, `/${keys.map(escapeKey).join('/')}`) : document;
  if (last !== undefined && parent !== null && typeof parent === 'object') delete (parent as Json)[last];
}

/** The schema a pointer into a value reaches, walking the value's schema property by property (array items by index). */
export function schemaAt(doc: Json, schema: Json | undefined, pointer: string): Json | undefined {
  let at = deref<Json | undefined>(doc, schema);
  for (const key of pointerKeys(pointer)) {
    if (!at) return undefined;
    at = /^\d+$/.test(key) && at.items ? deref(doc, at.items) : deref(doc, allProperties(doc, at)[key]);
  }
  return at;
}
