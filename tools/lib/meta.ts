// The constants a provider package's runtime reads: per-operation metadata
// and compact response shapes, derived from the spec.
import { profileSchemes } from './credential-rules.js';
import { deref, type Json, operations } from './specs.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const XML_TYPE = /^(?:application|text)\/(?:[\w.+-]+\+)?xml$/i;

/**
 * A response (or XML request) schema reduced to what the runtime walks:
 * type, required properties, XML names, attributes and wrapping. Unions
 * (oneOf/anyOf, several types) become `type: ''`: not checked, not decoded.
 * With `deep` false, properties are not walked (required names still come).
 */
function shape(doc: Json, input: Json, seen: string[] = [], deep = true): Json {
  const ref = typeof input?.$ref === 'string' ? input.$ref : undefined;
  if (ref && seen.includes(ref)) return { type: '' };
  const trail = ref ? [...seen, ref] : seen;
  const schema = deref(doc, input) ?? {};
  if (schema.oneOf || schema.anyOf) return { type: '' };
  const parts: Json[] = [schema, ...(schema.allOf ?? []).map((p: Json) => deref(doc, p))];
  const types = [...new Set(parts.flatMap((p) => [p.type ?? []].flat()).filter((t: string) => t !== 'null'))];
  const type = types.length > 1 ? '' : (types[0] ?? (parts.some((p) => p.properties) ? 'object' : ''));
  const out: Json = { type };
  const xml = { ...schema.xml, ...input.xml };
  if (xml.name) out.xmlName = xml.name;
  if (xml.attribute) out.xmlAttribute = true;
  if (xml.wrapped) out.xmlWrapped = true;
  if (type === 'object') {
    const required = [...new Set(parts.flatMap((p) => p.required ?? []))];
    if (required.length) out.required = required;
    const properties: Json = {};
    for (const part of deep ? parts : []) {
      for (const [name, sub] of Object.entries<Json>(deref(doc, part).properties ?? {})) {
        properties[name] = shape(doc, sub, trail);
        // The XML codec names a property's element after the property unless told otherwise.
        if (properties[name].xmlName === name) delete properties[name].xmlName;
      }
    }
    if (Object.keys(properties).length) out.properties = properties;
  }
  if (type === 'array' && schema.items) out.items = shape(doc, schema.items, trail, deep);
  return out;
}

// A shape is worth shipping when it can catch something: a required field, a
// structure to check or XML to decode.
function useful(s: Json): boolean {
  return Boolean(
    s.required ||
      s.xmlName ||
      s.xmlAttribute ||
      s.xmlWrapped ||
      (s.items && useful(s.items)) ||
      Object.values<Json>(s.properties ?? {}).some(useful),
  );
}

/**
 * Without XML to decode, a JSON body is checked at its top level: the
 * required fields of the body (or of each item of a body that is a list).
 * Nested objects are not walked: their required lists were most of the
 * per-operation bytes a large API ships (GitHub: 28 of 43 kB), to catch a
 * provider dropping a field inside a field. Scalars are never checked.
 */
function structural(s: Json, top = true): Json {
  const out: Json = { type: s.type };
  if (s.required) out.required = s.required;
  if (top && s.items && (s.items.type === 'object' || s.items.type === 'array')) out.items = structural(s.items, false);
  return out;
}

/** The runtime modules a client binds only when its spec needs them: the XML codec, the paging styles its list operations use. */
export function features(doc: Json): { xml: boolean; paging: string[] } {
  const all = operations(doc);
  const contents = all.flatMap(({ op }) => [
    deref(doc, op.requestBody)?.content,
    ...Object.values<Json>(op.responses ?? {}).map((r) => deref(doc, r)?.content),
  ]);
  return {
    xml: contents.some((content) => Object.keys(content ?? {}).some((type) => XML_TYPE.test(type))),
    paging: [...new Set(all.flatMap(({ op }) => op['x-portico-pagination']?.style ?? []))].sort(),
  };
}

/** Above this much validation data (JSON characters), it goes to a module the client imports on the first response validated. */
const LAZY_VALIDATION_CHARS = 16_384;

/**
 * Metadata the runtime needs per operation, keyed `METHOD /path`; and, for
 * a large API, apart, the shapes that only validate 2xx JSON bodies
 * (`validation`), which the package ships in a module of their own.
 */
export function operationMeta(doc: Json): { meta: Record<string, Json>; validation: Record<string, Json> } {
  const schemes = profileSchemes(doc);
  const perOperation = schemes.size > 1;
  const meta: Record<string, Json> = {};
  const validation: Record<string, Json> = {};
  for (const { method, path, op, pathItem } of operations(doc)) {
    const m: Json = {};
    // The requirements a client can meet with a credential: of its schemes only, and not the anonymous `{}`.
    const security = (op.security ?? doc.security ?? [])
      .map(Object.keys)
      .filter((names: string[]) => names.length && names.every((n) => schemes.has(n)));
    if (security.length) Object.assign(m, perOperation ? { security } : { requiresAuth: true });
    if (op['x-portico-retry-safe'] === true) m.retrySafe = true;
    const body = deref(doc, op.requestBody)?.content ?? {};
    const bodyTypes = Object.keys(body);
    if (bodyTypes.length > 0 && bodyTypes.every((t) => t === 'application/x-www-form-urlencoded')) m.formBody = true;
    const shapes: Json = {};
    const checks: Json = {};
    const accepts = new Set<string>();
    for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
      const content = deref(doc, response)?.content ?? {};
      for (const type of Object.keys(content)) if (!JSON_TYPE.test(type)) accepts.add(type);
      const xml = Object.keys(content).some((type) => XML_TYPE.test(type));
      // Content negotiation: JSON types of one status with different schemas are each checked under
      // `status type`, and a body against the schema of the type it came back as.
      const negotiated = Object.entries<Json>(content)
        .filter(([type, m]) => JSON_TYPE.test(type) && m?.schema)
        .map(([type, m]) => [type.toLowerCase(), structural(shape(doc, m.schema, [], false))] as const);
      if (!xml && /^2\d\d$/.test(status) && new Set(negotiated.map(([, s]) => JSON.stringify(s))).size > 1) {
        for (const [type, s] of negotiated) if (useful(s)) checks[`${status} ${type}`] = s;
        continue;
      }
      const media = Object.entries<Json>(content).find(([type]) => JSON_TYPE.test(type) || XML_TYPE.test(type))?.[1];
      // A JSON shape only validates a 2xx body: an error's would never be read.
      if (media?.schema && (xml || /^2\d\d$/.test(status))) {
        // A JSON check keeps no properties (see structural): walking them is most of generation's own time on a large API.
        const s = xml ? shape(doc, media.schema) : structural(shape(doc, media.schema, [], false));
        if (useful(s)) (xml ? shapes : checks)[status] = s;
      }
    }
    // XML error bodies mostly share one schema: it is written once, as the
    // `default` the client decodes any other status with.
    const errors = Object.keys(shapes).filter((status) => !/^2\d\d$/.test(status));
    const common = errors
      .map((status) => JSON.stringify(shapes[status]))
      .sort()
      .find((v, _i, all) => all.indexOf(v) !== all.lastIndexOf(v));
    if (common && (shapes.default === undefined || JSON.stringify(shapes.default) === common)) {
      for (const status of errors) if (JSON.stringify(shapes[status]) === common) delete shapes[status];
      shapes.default = JSON.parse(common);
    }
    if (Object.keys(shapes).length || Object.keys(checks).length) m.shapes = { ...shapes, ...checks };
    if (Object.keys(checks).length) validation[`${method.toUpperCase()} ${path}`] = checks;
    if (accepts.size) m.accepts = [...accepts];
    const params = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => deref(doc, p));
    const defaults = Object.fromEntries(
      params.filter((p) => p.in === 'path' && p.schema?.default !== undefined).map((p) => [p.name, p.schema.default]),
    );
    if (Object.keys(defaults).length) m.defaults = defaults;
    const representation = params.find((p) => p['x-portico-representation']);
    if (representation) {
      const xmlBody = Object.entries<Json>(body).find(([type]) => XML_TYPE.test(type))?.[1];
      m.representation = {
        param: representation.name,
        types: representation['x-portico-representation'],
        ...(xmlBody?.schema ? { body: shape(doc, xmlBody.schema) } : {}),
      };
    }
    if (op['x-portico-pagination']) m.pagination = op['x-portico-pagination'];
    meta[`${method.toUpperCase()} ${path}`] = m;
  }
  // Lazy loading costs a module wrapper and a wait on the first response:
  // worth it only when the shapes are a large part of the package.
  if (JSON.stringify(validation).length < LAZY_VALIDATION_CHARS) return { meta, validation: {} };
  for (const [key, checks] of Object.entries(validation)) {
    const m = meta[key]!;
    for (const status of Object.keys(checks)) delete m.shapes[status];
    if (!Object.keys(m.shapes).length) delete m.shapes;
  }
  return { meta, validation };
}

/**
 * The flags most operations share (on most APIs, just "needs the
 * credential"), and the operations that differ from them: a large uniform API
 * then ships almost no per-operation data. Undefined when nothing is shared.
 */
export function sharedMeta(meta: Record<string, Json>): { defaults: Json | undefined; operations: Record<string, Json> } {
  const counts = new Map<string, number>();
  // Only flags and the schemes an operation takes are shared (requiresAuth, security, retrySafe, formBody): shapes are deduplicated where they are written.
  for (const m of Object.values(meta))
    if (Object.entries(m).every(([k, v]) => v === true || k === 'security'))
      counts.set(JSON.stringify(m), (counts.get(JSON.stringify(m)) ?? 0) + 1);
  const [common, n] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['{}', 0];
  if (common === '{}' || n < 2) return { defaults: undefined, operations: meta };
  return {
    defaults: JSON.parse(common),
    operations: Object.fromEntries(Object.entries(meta).filter(([, m]) => JSON.stringify(m) !== common)),
  };
}

/** A single-quoted JavaScript string literal of `value`: JSON.stringify's escaping, so no spec string can end it early. */
export function literal(value: unknown): string {
  return `'${JSON.stringify(String(value)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** An object key: bare when it is an identifier, else a quoted literal. */
export function propertyKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
}

/** Text for inside a generated block comment: a spec string cannot close it. */
export function commentText(value: unknown): string {
  return String(value).replace(/\*\//g, '*\\/');
}

/**
 * JavaScript source for a JSON value, written as a person would write it:
 * bare keys where they are identifiers, and what fits on one line on one line.
 * Repeated objects (the same error schema under forty operations) are written
 * out each time, not hoisted into anonymous constants: gzip finds the repeats
 * itself, and measured on dist/generated/spec.js (esbuild minify, gzip -9)
 * the hoisting saved nothing (0 to 75 bytes larger per package than this).
 */
export function jsSource(value: unknown, indent = ''): string {
  if (!value || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  const array = Array.isArray(value);
  const items = array
    ? value.map((v) => jsSource(v, inner))
    : Object.entries(value).map(([k, v]) => `${propertyKey(k)}: ${jsSource(v, inner)}`);
  if (!items.length) return array ? '[]' : '{}';
  const flat = array ? `[${items.join(', ')}]` : `{ ${items.join(', ')} }`;
  if (!flat.includes('\n') && inner.length + flat.length <= LINE) return flat;
  return `${array ? '[' : '{'}\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}${array ? ']' : '}'}`;
}

/** Width a generated literal goes on one line within. */
const LINE = 100;
