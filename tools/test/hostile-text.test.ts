// An imported document's text is someone else's. Where it reaches code a
// user copies or runs (the README's snippets, the reference samples, the docs
// site's shell lines) it is a quoted literal, a line of a comment, an escaped
// table cell or a quoted shell word; its parameter `in` never writes to
// Object.prototype. Found by the adversarial review of the import (issue 23).
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { cliQuickStart } from '../lib/quickstart.ts';
import { renderReadme, requestArg } from '../lib/readme.ts';
import { codeSample } from '../lib/samples.ts';
import { type Json, operations } from '../lib/specs.ts';

const CANARY = 'globalThis.pwned';
const HOSTILE = [
  `'+${CANARY}=1+'`,
  `\\'+${CANARY}=2+'`,
  `\`+${CANARY}=3+\``,
  `\${${CANARY}=4}`,
  `x\n${CANARY}=5;//`,
  `x\u2028${CANARY}=6;//`,
  `*/${CANARY}=7;/*`,
];

function hostileDoc(): Json {
  const paths: Json = {};
  HOSTILE.forEach((text, i) => {
    paths[`/things${i}/${text}`] = {
      get: {
        operationId: `op${i}${text}`,
        summary: `<img src=x onerror=alert(${i})> | broken | cell\n| GET | row |`,
        security: [{ Key: [] }],
        parameters: [
          { name: text, in: 'query', required: true, schema: { type: 'string' } },
          { name: 'polluted', in: '__proto__', required: true, schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'ok' } },
      },
      post: {
        operationId: `post${i}`,
        security: [{ Key: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object' }, example: { [text]: text, nested: { [text]: [text] } } } },
        },
        responses: { 200: { description: 'ok' } },
      },
    };
  });
  return {
    openapi: '3.1.0',
    info: { title: `Hostile ${HOSTILE[4]} <script>alert(1)</script>`, version: '1 | 2' },
    servers: [{ url: 'https://api.hostile.example' }],
    'x-portico-imported': { source: 'hostile.yaml', sha256: '0'.repeat(64) },
    'x-portico-auth': { description: 'A key.', securityScheme: 'Key' },
    components: { securitySchemes: { Key: { type: 'apiKey', in: 'header', name: 'X-Key' } } },
    paths,
  };
}

/** The TypeScript source with every string literal and comment taken out: what would run. */
function code(source: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, false, ts.LanguageVariant.Standard, source);
  let out = '';
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.StringLiteral) continue;
    // A template literal would run what is inside `${}`: none is expected, so it stays in for the check to see.
    out += `${scanner.getTokenText()} `;
  }
  return out;
}

const blocks = (markdown: string) => [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('hostile document text in what users copy and run', () => {
  it('README snippets and every reference sample hold it in string literals and comments only', () => {
    const doc = hostileDoc();
    const readme = renderReadme('hostile', doc, { name: '@portico/hostile' });
    const sources = [...blocks(readme), ...operations(doc).map((operation) => codeSample('hostile', doc, operation))];
    expect(sources.length).toBeGreaterThan(HOSTILE.length);
    for (const source of sources) {
      expect(source.includes(CANARY)).toBe(true);
      expect(code(source)).not.toContain(CANARY);
      expect(ts.transpileModule(source, { reportDiagnostics: true }).diagnostics).toEqual([]);
    }
  });

  it("README markdown: the title and each operation's row stay one line, with no HTML and no extra cell", () => {
    const doc = hostileDoc();
    const readme = renderReadme('hostile', doc, { name: '@portico/hostile' });
    expect(readme).not.toMatch(/<img|<script/);
    const rows = readme.split('\n').filter((line) => /^\| (GET|POST) \|/.test(line));
    expect(rows).toHaveLength(operations(doc).length);
    // Four cells: the table's pipes, and none from the spec (those are escaped).
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(5);
    expect(readme.split('\n').find((line) => line.startsWith('Typed client for'))).toContain('&lt;script>');
  });

  it("a parameter's `in` of __proto__ writes nothing to Object.prototype; one named __proto__ is a parameter like another", () => {
    const doc = hostileDoc();
    for (const operation of operations(doc)) requestArg(doc, operation);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    const [first] = operations(doc);
    first!.op.parameters = [{ name: '__proto__', in: 'query', required: true, schema: { type: 'string' } }];
    expect(requestArg(doc, first!)).toBe(", { params: { query: { ['__proto__']: '__proto__' } } }");
  });

  it("the docs site's shell line quotes a path a shell would read otherwise, and escapes its HTML", () => {
    const doc: Json = {
      ...hostileDoc(),
      'x-portico-auth': { grants: ['authorization_code'], authorization: { url: 'https://login.hostile.example' } },
      paths: { "/me;rm -rf ~ 'x' <img src=x onerror=alert(1)>": { get: { security: [{ OAuth: [] }], responses: {} } } },
    };
    const html = cliQuickStart('hostile', doc);
    expect(html).toContain("npx @portico/cli call hostile GET '/me;rm -rf ~ '\\''x'\\'' &lt;img src=x onerror=alert(1)&gt;'</code>");
    expect(html).not.toContain('<img');
  });
});
