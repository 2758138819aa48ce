// A small, strict XML reader and a schema-directed decoder. Strict on purpose:
// no DTDs (so no entity expansion, no external entities), only the five
// predefined entities and character references, bounded depth.

import { isJsonType } from './body.js';
import type { Shape, XmlCodec } from './shape.js';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

const MAX_DEPTH = 256;
// Looked up as own properties only: `&toString;` names no entity.
const ENTITIES: Record<string, string> = Object.assign(Object.create(null), { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" });
const CHAR_REF = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/;

/** XML 1.0 §2.2 Char: what a character reference may name (no lone surrogates, no U+FFFE/FFFF, no C0 but tab, LF, CR). */
const isXmlChar = (c: number) =>
  c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
const NAME = /[A-Za-z_:][-\w.:]*/y;

function decodeEntities(raw: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlSyntaxError(`unterminated entity reference "&${ref.slice(0, 10)}"`);
    if (Object.hasOwn(ENTITIES, ref)) return ENTITIES[ref]!;
    const digits = CHAR_REF.exec(ref);
    const code = digits === null ? Number.NaN : digits[1] !== undefined ? Number.parseInt(digits[1], 16) : Number.parseInt(digits[2]!, 10);
    if (!isXmlChar(code)) throw new XmlSyntaxError(`undefined entity "&${ref.slice(0, 20)};"`);
    return String.fromCodePoint(code);
  });
}

/** Parses a document into its root element; refuses DOCTYPE and anything malformed. */
export function parseXml(raw: string): XmlElement {
  // §2.11: CR LF and a lone CR read as LF before anything else (a &#xD; still gives CR).
  const source = raw.replace(/\r\n?/g, '\n');
  let pos = 0;
  const fail = (what: string): never => {
    throw new XmlSyntaxError(`${what} at offset ${pos}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos]!)) pos++;
      if (source.startsWith('<?', pos)) {
        const end = source.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (source.startsWith('<!DOCTYPE', pos) || source.startsWith('<!ENTITY', pos)) {
        fail('DOCTYPE and entity declarations are refused');
      } else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(source);
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };
  const parseElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail('elements nested too deeply');
    if (source[pos] !== '<') fail('expected "<"');
    pos++;
    const name = readName();
    const attributes: Record<string, string> = Object.create(null);
    for (;;) {
      while (/\s/.test(source[pos] ?? '')) pos++;
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (source[pos] === '>') {
        pos++;
        break;
      }
      const attr = readName();
      while (/\s/.test(source[pos] ?? '')) pos++;
      if (source[pos] !== '=') fail(`expected "=" after attribute ${attr}`);
      pos++;
      while (/\s/.test(source[pos] ?? '')) pos++;
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") return fail('expected a quoted attribute value');
      const end = source.indexOf(quote, pos + 1);
      if (end < 0) fail('unterminated attribute value');
      if (Object.hasOwn(attributes, attr)) fail(`duplicate attribute ${attr}`);
      attributes[attr] = decodeEntities(source.slice(pos + 1, end));
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (pos >= source.length) fail(`element <${name}> is not closed`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        while (/\s/.test(source[pos] ?? '')) pos++;
        if (source[pos] !== '>') fail('expected ">"');
        pos++;
        return { name, attributes, children, text };
      }
      if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA section');
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (source.startsWith('<!', pos) || source.startsWith('<?', pos)) {
        fail('declarations are not allowed inside elements');
      } else if (source[pos] === '<') {
        children.push(parseElement(depth + 1));
      } else {
        const next = source.indexOf('<', pos);
        const end = next < 0 ? source.length : next;
        text += decodeEntities(source.slice(pos, end));
        pos = end;
      }
    }
  };
  skipMisc();
  const root = parseElement(0);
  skipMisc();
  if (pos < source.length) fail('content after the root element');
  return root;
}

const local = (name: string) => name.slice(name.indexOf(':') + 1);

function scalar(text: string, schema: Shape, where: string): unknown {
  const value = text.trim();
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || (schema.type === 'integer' && !Number.isInteger(n))) {
        throw new XmlSyntaxError(`${where}: "${value.slice(0, 40)}" is not ${schema.type === 'integer' ? 'an integer' : 'a number'}`);
      }
      return n;
    }
    case 'boolean':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new XmlSyntaxError(`${where}: "${value.slice(0, 40)}" is not a boolean`);
    default:
      return text;
  }
}

/** Turns an element into the JSON shape its schema promises. */
export function decodeElement(element: XmlElement, schema: Shape, where = element.name): unknown {
  if (schema.type === 'array') {
    const item = schema.items ?? { type: 'string' };
    return element.children.map((child, index) => decodeElement(child, item, `${where}[${index}]`));
  }
  if (schema.type !== 'object') return scalar(element.text, schema, where);
  const out: Record<string, unknown> = {};
  for (const [prop, sub] of Object.entries(schema.properties ?? {})) {
    const xmlName = sub.xmlName ?? prop;
    if (sub.xmlAttribute) {
      const hit = Object.entries(element.attributes).find(([k]) => local(k) === xmlName);
      if (hit) out[prop] = scalar(hit[1], sub, `${where}@${xmlName}`);
      continue;
    }
    if (sub.type === 'array') {
      const item = sub.items ?? { type: 'string' };
      if (sub.xmlWrapped) {
        const wrapper = element.children.find((c) => local(c.name) === xmlName);
        if (wrapper) out[prop] = wrapper.children.map((c, i) => decodeElement(c, item, `${where}.${xmlName}[${i}]`));
      } else {
        const itemName = item.xmlName ?? prop;
        const items = element.children.filter((c) => local(c.name) === itemName);
        if (items.length) out[prop] = items.map((c, i) => decodeElement(c, item, `${where}.${itemName}[${i}]`));
      }
      continue;
    }
    const child = element.children.find((c) => local(c.name) === xmlName);
    if (child) out[prop] = decodeElement(child, sub, `${where}.${xmlName}`);
  }
  return out;
}

export function decodeXml(source: string, schema: Shape): unknown {
  return decodeElement(parseXml(source), schema);
}

const escapeXml = (v: string) =>
  v.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`);

/** Writes a value as the XML its schema describes: the inverse of decodeXml. */
export function encodeXml(value: unknown, shape: Shape, name = shape.xmlName ?? 'root'): string {
  if (shape.type === 'array') {
    const item = shape.items ?? { type: 'string' };
    return (Array.isArray(value) ? value : []).map((v) => encodeXml(v, item, item.xmlName ?? name)).join('');
  }
  if (shape.type !== 'object' || value === null || typeof value !== 'object') return `<${name}>${escapeXml(String(value))}</${name}>`;
  const record = value as Record<string, unknown>;
  let attributes = '';
  let children = '';
  for (const [prop, sub] of Object.entries(shape.properties ?? {})) {
    const v = record[prop];
    if (v === undefined || v === null) continue;
    const xmlName = sub.xmlName ?? prop;
    if (sub.xmlAttribute) attributes += ` ${xmlName}="${escapeXml(String(v))}"`;
    else if (sub.type === 'array' && sub.xmlWrapped) children += `<${xmlName}>${encodeXml(v, sub, xmlName)}</${xmlName}>`;
    else if (sub.type === 'array')
      children += encodeXml(v, { ...sub, items: { ...(sub.items ?? { type: 'string' }), xmlName: sub.items?.xmlName ?? prop } }, xmlName);
    else children += encodeXml(v, sub, xmlName);
  }
  return `<${name}${attributes}>${children}</${name}>`;
}

/** The codec a client of an XML API is given (`defineClient({ ...spec, xml })`): kept out of every other package's bundle. */
export const xml: XmlCodec = {
  decode: decodeXml,
  encode: (value, shape) => `<?xml version="1.0" encoding="UTF-8"?>${encodeXml(value, shape)}`,
  requestType(representation, path) {
    const chosen = path?.[representation.param];
    const type = chosen === undefined ? undefined : representation.types[String(chosen)];
    return type !== undefined && !isJsonType(type) && representation.body !== undefined ? type : undefined;
  },
};
