// Defect 6: entity names and attribute names are looked up as own
// properties only, and character references must name XML characters.
import { describe, expect, it } from 'vitest';
import { decodeXml, parseXml, XmlSyntaxError } from '../../src/xml.ts';

const text = { type: 'object', properties: { v: { type: 'string' } } } as const;

describe('the XML reader and Object.prototype', () => {
  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])('&%s; is an undefined entity', (name) => {
    expect(() => decodeXml(`<r><v>&${name};</v></r>`, text)).toThrow(XmlSyntaxError);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('an attribute named %s is read as any other', (name) => {
    const root = parseXml(`<r ${name}="x" other="y"/>`);
    expect(Object.entries(root.attributes)).toEqual([
      [name, 'x'],
      ['other', 'y'],
    ]);
    expect(() => parseXml(`<r ${name}="x" ${name}="y"/>`)).toThrow(/duplicate attribute/);
  });

  it.each(['&#xD800;', '&#xDFFF;', '&#55296;', '&#xFFFE;', '&#xFFFF;', '&#x1;', '&#0;', '&#x110000;', '&#x;', '&#;', '&#x-1;', '&#1a;'])(
    '%s is refused',
    (ref) => {
      expect(() => decodeXml(`<r><v>${ref}</v></r>`, text)).toThrow(XmlSyntaxError);
    },
  );

  it.each([
    ['&#x9;&#xA;&#xD;', '\t\n\r'],
    ['&#x1F600;', '😀'],
    ['&#xE000;&#xFFFD;&#x10FFFF;', '\uE000\uFFFD\u{10FFFF}'],
    ['&lt;&gt;&amp;&quot;&apos;', `<>&"'`],
  ])('%s decodes', (ref, expected) => {
    expect(decodeXml(`<r><v>${ref}</v></r>`, text)).toEqual({ v: expected });
  });
});
