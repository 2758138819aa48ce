// Reading OpenAPI schemas, and values built from them: the mock's bodies where
// the spec gives no example, and the README's and reference samples'
// arguments. tools/lib imports this file by path, so the generators and the
// mock read a schema the same way; it imports nothing, so the generators can
// run before any package is built.

/** An OpenAPI document or a part of one, as parsed from YAML or JSON. */
// biome-ignore lint/suspicious/noExplicitAny: a document the spec's author wrote, walked by key.
export type Json = Record<string, any>;

/** The keys a JSON pointer (RFC 6901) walks, unescaped: `~1` is `/`, then `~0` is `~`. */
export const pointerKeys = (pointer: string): string[] =>
  pointer === ''
    ? []
    : pointer
        .split('/')
        .slice(1)
        .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));

/** Resolves a local `#/...` reference; other values pass through. */
export function deref<T = Json>(doc: Json, value: unknown): T {
  let v = value as Json | undefined;
  for (let i = 0; v && typeof v === 'object' && typeof v.$ref === 'string' && i < 32; i++) {
    v = pointerKeys(v.$ref.replace(/^#/, '')).reduce<Json | undefined>(
      (o, k) => (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? o[k] : undefined),
      doc,
    );
  }
  return v as T;
}

/** A schema's properties with those of its allOf parts. */
export function allProperties(doc: Json, schema: Json): Json {
  return Object.assign({}, ...[schema, ...(schema.allOf ?? [])].map((part: Json) => deref(doc, part)?.properties ?? {}));
}

/** A schema's required names with those of its allOf parts. */
export function allRequired(doc: Json, schema: Json): string[] {
  return [schema, ...(schema.allOf ?? [])].flatMap((part: Json) => deref(doc, part)?.required ?? []);
}

/** The schema's own example, default, first enum value or const, if it has one. */
function given(schema: Json | undefined): unknown {
  return schema?.example ?? schema?.examples?.[0] ?? schema?.default ?? schema?.enum?.[0] ?? schema?.const;
}

/** The types a schema (and its allOf parts) allows, other than null. */
function typesOf(doc: Json, schema: Json | undefined): string[] {
  const parts = [schema, ...(schema?.allOf ?? []).map((part: Json) => deref(doc, part))];
  return parts.flatMap((part) => [part?.type].flat()).filter((t) => t && t !== 'null');
}

const MAX_DEPTH = 8;

/**
 * A value of the schema's type where the spec gives no example (published
 * documents often do not), so a sample call still type-checks: its own
 * example, default or first enum value; an object's required properties;
 * the first variant of a oneOf or anyOf; else a placeholder named after the
 * parameter. Bounded in depth, for schemas that refer to themselves.
 */
export function exampleValue(doc: Json, at: Json | undefined, name: string, depth = 0): unknown {
  const schema = deref(doc, at);
  const own = given(schema);
  if (own !== undefined || depth > MAX_DEPTH) return own;
  const variant = schema?.oneOf?.[0] ?? schema?.anyOf?.[0];
  if (variant) return exampleValue(doc, variant, name, depth + 1);
  const properties = schema ? allProperties(doc, schema) : {};
  const types = typesOf(doc, schema);
  if (types.includes('object') || Object.keys(properties).length)
    return Object.fromEntries(
      [...new Set(allRequired(doc, schema))]
        .filter((key: string) => key in properties)
        .map((key: string) => [key, exampleValue(doc, properties[key], key, depth + 1)]),
    );
  const type = types[0];
  if (type === 'integer' || type === 'number') return schema?.minimum ?? 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [exampleValue(doc, schema?.items, name, depth + 1)];
  return name;
}

/** A string of `format` (JSON Schema's and OpenAPI's), the n-th of its kind; undefined for a format with no canonical value here. */
function formatted(format: string | undefined, name: string, n: number): string | undefined {
  const day = String(1 + (n % 28)).padStart(2, '0');
  switch (format) {
    case 'date':
      return `2024-01-${day}`;
    case 'date-time':
      return `2024-01-${day}T09:30:00Z`;
    case 'time':
      return '09:30:00Z';
    case 'email':
      return `${slugOf(name)}${n}@example.com`;
    case 'uri':
    case 'url':
    case 'iri':
      return `https://example.com/${slugOf(name)}/${n}`;
    case 'uri-reference':
    case 'iri-reference':
      return `/${slugOf(name)}/${n}`;
    case 'uuid':
      return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    case 'hostname':
      return 'example.com';
    case 'ipv4':
      return '192.0.2.1';
    case 'ipv6':
      return '2001:db8::1';
    case 'byte':
      return 'bW9jaw==';
    default:
      return undefined;
  }
}

const slugOf = (name: string) =>
  name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase() || 'value';

/**
 * A value valid against the schema for a mock's response: the n-th of its
 * kind (`n` varies identifiers and picks enum values, so generated list items
 * differ), every declared property down to a depth, formats and bounds
 * honoured. Where a schema allows nothing this can build (a `pattern`), the
 * caller checks the value and falls back.
 */
export function generateValue(doc: Json, at: Json | undefined, name: string, n = 0, depth = 0): unknown {
  const schema = deref(doc, at);
  if (schema === undefined || schema === null || typeof schema !== 'object') return null;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[n % schema.enum.length];
  const own = schema.example ?? schema.examples?.[0] ?? schema.default;
  if (own !== undefined && n === 0) return own;
  const variant = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (variant) {
    const base = generateValue(doc, variant, name, n, depth + 1);
    // Sibling properties of a oneOf (rare) are merged in.
    return schema.properties && isRecord(base) ? { ...objectOf(doc, schema, n, depth), ...base } : base;
  }
  const types = typesOf(doc, schema);
  const properties = allProperties(doc, schema);
  if (types.includes('object') || Object.keys(properties).length) return objectOf(doc, schema, n, depth);
  switch (types[0]) {
    case 'integer':
    case 'number': {
      const low = schema.minimum ?? (schema.exclusiveMinimum === undefined ? 1 : schema.exclusiveMinimum + 1);
      const high = schema.maximum ?? (schema.exclusiveMaximum === undefined ? low + 1000 : schema.exclusiveMaximum - 1);
      return Math.min(low + n, high);
    }
    case 'boolean':
      return n % 2 === 0;
    case 'array': {
      const count = Math.max(1, schema.minItems ?? 1);
      if (depth > MAX_DEPTH) return [];
      return Array.from({ length: count }, (_, i) => generateValue(doc, schema.items, name, n + i, depth + 1));
    }
    case 'null':
      return null;
    default: {
      if (typeof schema.pattern === 'string') {
        const matching = fromPattern(schema.pattern, n) ?? [own, ...(schema.examples ?? [])].find((v) => typeof v === 'string');
        if (matching !== undefined) return matching;
      }
      let text = formatted(schema.format, name, n) ?? `${slugOf(name)}-${n + 1}`;
      if (schema.minLength !== undefined && text.length < schema.minLength) text = text.padEnd(schema.minLength, 'x');
      if (schema.maxLength !== undefined && text.length > schema.maxLength) text = text.slice(0, schema.maxLength);
      return text;
    }
  }
}

function objectOf(doc: Json, schema: Json, n: number, depth: number): Json {
  const properties = allProperties(doc, schema);
  const required = new Set(allRequired(doc, schema));
  const out: Json = {};
  for (const [key, sub] of Object.entries<Json>(properties)) {
    // Past a depth only what the schema requires, so a schema that refers to itself ends.
    if (depth > 3 && !required.has(key)) continue;
    const value = generateValue(doc, sub, key, n, depth + 1);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

const isRecord = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A string matching a simple pattern, the n-th of its kind: literals and
 * character classes with `{n}`, `{n,m}`, `?`, `*` or `+`, anchored (`^[A-Z]{3}$`).
 * Undefined for anything else (groups, alternatives): the caller falls back
 * to the schema's example.
 */
function fromPattern(pattern: string, n: number): string | undefined {
  const body = /^\^(.*)\$$/.exec(pattern)?.[1];
  if (body === undefined) return undefined;
  const atom = /(\[(?:\\.|[^\]])+\]|\\.|[^\\[\](){}|?*+.^$])(\{(\d+)(?:,\d*)?\}|[?*+])?/gy;
  let out = '';
  let at = 0;
  for (let match = atom.exec(body); match; match = atom.exec(body)) {
    at = atom.lastIndex;
    const [, unit, quantifier, count] = match as unknown as [string, string, string | undefined, string | undefined];
    const times = count !== undefined ? Number(count) : quantifier === '+' ? 1 : 0;
    const repeat = quantifier === undefined ? 1 : times;
    const choices = unit.startsWith('[') ? classChars(unit.slice(1, -1)) : [unit.replace(/^\\/, '')];
    if (!choices?.length) return undefined;
    for (let i = 0; i < repeat; i++) out += choices[(n + i) % choices.length];
  }
  return at === body.length && new RegExp(pattern, 'u').test(out) ? out : undefined;
}

/** The characters a `[...]` class allows (ranges expanded), or undefined for a negated class. */
function classChars(spec: string): string[] | undefined {
  if (spec.startsWith('^')) return undefined;
  const out: string[] = [];
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i] === '\\' ? spec[++i]! : spec[i]!;
    if (spec[i + 1] === '-' && i + 2 < spec.length) {
      const end = spec[i + 2]!;
      for (let code = c.charCodeAt(0); code <= end.charCodeAt(0); code++) out.push(String.fromCharCode(code));
      i += 2;
    } else out.push(c);
  }
  return out;
}
