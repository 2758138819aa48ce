// The XML decoder against generated documents of the Dexero FD schemas:
// its result equals fast-xml-parser's (the oracle, test-only) read through the
// same schema, equals the value the document was written from, and broken
// documents end in XmlSyntaxError (ResponseParseError through a client).
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { spec } from '../../packages/dexero-fd/src/generated/spec.ts';
import type { Shape } from '../../packages/runtime/src/shape.ts';
import { decodeElement, decodeXml, encodeXml, type XmlElement, XmlSyntaxError } from '../../packages/runtime/src/xml.ts';
import { bounded, group } from './support.ts';

const g = group('xml');

// Every schema Dexero FD sends or accepts as XML: responses by status, and the XML request body.
const shapes = new Map<string, Shape>();
for (const meta of Object.values(spec.operations)) {
  if (!meta.accepts?.some((t) => t.includes('xml'))) continue;
  for (const shape of Object.values(meta.shapes ?? {})) shapes.set(JSON.stringify(shape), shape);
  if (meta.representation?.body) shapes.set(JSON.stringify(meta.representation.body), meta.representation.body);
}
const SHAPES = [...shapes.values()].filter((s) => s.type === 'object' && s.xmlName);

// XML 1.0 Char. A CR reads back as LF (§2.11 end-of-line handling).
const xmlChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcXYZ019 <>&"\';]]>-:\t\n\r'.split('')) },
  { weight: 2, arbitrary: fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const text = fc.string({ unit: xmlChar, maxLength: 30 });

/** A value of `shape`, as the schema allows. */
function arbitraryOf(shape: Shape, depth = 0): fc.Arbitrary<unknown> {
  switch (shape.type) {
    case 'object': {
      const props = Object.entries(shape.properties ?? {});
      return fc.record(Object.fromEntries(props.map(([k, sub]) => [k, arbitraryOf(sub, depth + 1)])), {
        requiredKeys: [...(shape.required ?? [])].filter((k) => props.some(([p]) => p === k)),
      });
    }
    case 'array':
      return fc.array(arbitraryOf(shape.items ?? { type: 'string' }, depth + 1), { maxLength: depth > 2 ? 1 : 4 });
    case 'integer':
      return fc.integer();
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
    case 'boolean':
      return fc.boolean();
    default:
      return text;
  }
}

/** The text of an element written three ways the XML spec makes equal: escaped, as character references, in CDATA. */
function restyle(xml: string, style: number[]): string {
  let i = 0;
  return xml.replace(/>([^<]+)</g, (whole, content: string) => {
    const how = style[i++ % style.length]!;
    // Characters outside the entity references encodeXml wrote.
    const outside = (pattern: RegExp, ref: (c: string) => string) =>
      content
        .split(/(&[a-z]+;)/)
        .map((part, j) => (j % 2 ? part : part.replace(pattern, ref)))
        .join('');
    if (how === 1) return `>${outside(/[a-z]/g, (c) => `&#${c.codePointAt(0)};`)}<`;
    if (how === 2) return `>${outside(/[A-Z0-9]/g, (c) => `&#x${c.codePointAt(0)!.toString(16)};`)}<`;
    if (how === 3 && !content.includes('&')) return `><![CDATA[${content}]]><`;
    return whole;
  });
}

const documents = fc.constantFrom(...SHAPES).chain((shape) =>
  fc
    .record({
      shape: fc.constant(shape),
      value: arbitraryOf(shape),
      style: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
      indent: fc.constantFrom('', '\n', '\n  ', '\r\n\t'),
      comment: fc.boolean(),
      prefix: fc.boolean(),
    })
    .map(({ value, style, indent, comment, prefix }) => {
      let body = restyle(encodeXml(value, shape), style);
      // Whitespace and comments between elements; the schema reads no text of an object element.
      body = body.replace(/><(?=[^/!])/g, `>${indent}${comment ? '<!-- c -->' : ''}<`);
      if (prefix) body = body.replace(/^<([\w]+)/, '<fd:$1 xmlns:fd="urn:dexero"').replace(/<\/([\w]+)>$/, '</fd:$1>');
      return { shape, value, xml: `<?xml version="1.0" encoding="UTF-8"?>${indent}${body}${indent}` };
    }),
);

const oracle = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Node = Record<string, unknown>;
/** fast-xml-parser's ordered output as the element tree the decoder reads. */
function tree(nodes: Node[]): XmlElement {
  const node = nodes.find((n) => Object.keys(n).some((k) => !k.startsWith('#') && k !== ':@'))!;
  const name = Object.keys(node).find((k) => k !== ':@')!;
  const children = node[name] as Node[];
  return {
    name,
    attributes: { ...(node[':@'] as Record<string, string> | undefined) },
    children: children.filter((c) => !('#text' in c) && !('#comment' in c)).map((c) => tree([c])),
    text: children.map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join(''),
  };
}

/** The value as XML reads it back: through JSON (no undefined keys), with line ends normalised. */
const comparable = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v)));

describe('property: the XML decoder', () => {
  it('equals fast-xml-parser on generated Dexero FD documents, and gives back the value written', () => {
    const count = g.counter('differential');
    expect(SHAPES.length).toBeGreaterThanOrEqual(2);
    fc.assert(
      fc.property(documents, ({ shape, value, xml }) => {
        count();
        const ours = decodeXml(xml, shape);
        expect(ours).toEqual(decodeElement(tree(oracle.parse(xml) as Node[]), shape));
        expect(comparable(ours)).toEqual(comparable(value));
      }),
      g.params(1_500),
    );
  });

  it('a broken document (bytes cut, added or changed) decodes or throws XmlSyntaxError, quickly', async () => {
    const count = g.counter('mutated');
    const edits = fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('cut', 'add', 'swap'),
        fc.constantFrom(
          '<',
          '>',
          '&',
          ';',
          '"',
          '/',
          '!',
          '[',
          ']',
          '?',
          '#',
          'x',
          'D',
          '0',
          ' ',
          '=',
          '\u0000',
          '\ud800',
          '&#xD800;',
          '&toString;',
          '<!DOCTYPE r>',
          '<![CDATA[',
          '-->',
          ']]>',
        ),
      ),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(documents, edits, async ({ shape, xml }, changes) => {
        count();
        let doc = xml;
        for (const [at, op, piece] of changes) {
          const i = at % (doc.length + 1);
          doc =
            op === 'cut'
              ? doc.slice(0, i) + doc.slice(i + 1)
              : op === 'add'
                ? doc.slice(0, i) + piece + doc.slice(i)
                : doc.slice(0, i) + piece + doc.slice(i + piece.length);
        }
        await bounded(
          Promise.resolve().then(() => {
            try {
              decodeXml(doc, shape);
            } catch (e) {
              if (!(e instanceof XmlSyntaxError)) throw e;
            }
          }),
          'decodeXml',
        );
      }),
      g.params(3_000),
    );
  });

  it('deep nesting and long runs stay linear: refused or decoded, never a stack overflow', () => {
    const count = g.counter('deep');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom('a', 'a b="1"', 'fd:a'), (depth, open) => {
        count();
        const name = open.split(' ')[0]!;
        const doc = `${`<${open}>`.repeat(depth)}x${`</${name}>`.repeat(depth)}`;
        try {
          decodeXml(doc, { type: 'object', xmlName: 'a', properties: { a: { type: 'string' } } });
        } catch (e) {
          expect(e).toBeInstanceOf(XmlSyntaxError);
        }
      }),
      g.params(200),
    );
  });
});
