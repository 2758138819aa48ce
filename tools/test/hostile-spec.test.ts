// Defect 9: every spec string that reaches generated code is a quoted
// literal (or a comment that cannot be closed from inside). The generator is
// fed hostile strings; the generated package must not run them on import,
// and Scope must not gain members.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../lib/specs.ts';

const run = promisify(execFile);
const g = globalThis as { pwned?: string };

const URL_INJECTION = "https://x/v1'+(globalThis.pwned='server url')+'";
const SCOPES = ["z'|'q", 'a"|"b', 'c`${globalThis.pwned="scope"}`', "d\\'+(globalThis.pwned='escaped')+'"];
const TITLE = "Hostile */ globalThis.pwned = 'title'; /*";
const INPUT = "appSecret: string }; globalThis.pwned = 'input'; type X = { y";
const SLUG_OF = { finexer: 'finexer', dapi: 'dapi' } as const;

/** The members of `export type Scope = ...` as the TypeScript parser reads them. */
function scopeMembers(source: string): string[] {
  const file = ts.createSourceFile('spec.ts', source, ts.ScriptTarget.ES2022);
  const alias = file.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'Scope')!;
  const types = ts.isUnionTypeNode(alias.type) ? alias.type.types : [alias.type];
  return types.map((t) => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : `<${ts.SyntaxKind[t.kind]}>`));
}

describe('the generator with hostile spec strings', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'portico-hostile-'));
    for (const slug of Object.keys(SLUG_OF)) {
      cpSync(join(ROOT, 'specs', slug), join(tmp, 'specs', slug), { recursive: true });
      mkdirSync(join(tmp, 'packages', slug), { recursive: true });
      cpSync(join(ROOT, 'packages', slug, 'package.json'), join(tmp, 'packages', slug, 'package.json'));
    }
    const finexer = parse(readFileSync(join(tmp, 'specs/finexer/openapi.yaml'), 'utf8'));
    finexer.servers[0].url = URL_INJECTION;
    finexer.info.title = TITLE;
    finexer.components.securitySchemes.oauth2.flows.authorizationCode.scopes = Object.fromEntries(SCOPES.map((s) => [s, 'hostile']));
    writeFileSync(join(tmp, 'specs/finexer/openapi.yaml'), stringify(finexer));
    const dapi = parse(readFileSync(join(tmp, 'specs/dapi/openapi.yaml'), 'utf8'));
    dapi['x-portico-auth'].token.grants.access_code_exchange.inputs = [INPUT, 'accessCode'];
    dapi.info.title = TITLE;
    writeFileSync(join(tmp, 'specs/dapi/openapi.yaml'), stringify(dapi));
    await run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'tools/generate.ts'), 'finexer', 'dapi'], {
      env: { ...process.env, PORTICO_ROOT: tmp },
    });
  }, 120_000);
  afterAll(() => {
    delete g.pwned;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('Scope has exactly the spec scopes, each as written', () => {
    expect(scopeMembers(readFileSync(join(tmp, 'packages/finexer/src/generated/spec.ts'), 'utf8'))).toEqual(SCOPES);
  });

  it.each(Object.keys(SLUG_OF))(
    'the generated %s package parses, imports without running any of it, and keeps each string as written',
    async (slug) => {
      for (const file of ['spec.ts', 'client.ts']) {
        const source = readFileSync(join(tmp, 'packages', slug, 'src/generated', file), 'utf8');
        const parsed = ts.transpileModule(source, {
          reportDiagnostics: true,
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        expect(parsed.diagnostics ?? [], `${slug}/${file}`).toEqual([]);
      }
      const out = join(tmp, `${slug}.mjs`);
      await build({
        entryPoints: [join(tmp, 'packages', slug, 'src/index.ts')],
        bundle: true,
        format: 'esm',
        platform: 'node',
        outfile: out,
        logLevel: 'silent',
        alias: {
          '@portico/runtime': join(ROOT, 'packages/runtime/src/index.ts'),
          '@portico/runtime/pagination': join(ROOT, 'packages/runtime/src/pagination.ts'),
          '@portico/runtime/xml': join(ROOT, 'packages/runtime/src/xml.ts'),
          '@portico/auth': join(ROOT, 'packages/auth/src/index.ts'),
          '@portico/auth/internal': join(ROOT, 'packages/auth/src/internal.ts'),
        },
      });
      delete g.pwned;
      const mod = await import(pathToFileURL(out).href);
      expect(g.pwned).toBeUndefined();
      expect(typeof mod.createClient).toBe('function');
      if (slug === 'finexer') expect(mod.servers[0].url).toBe(URL_INJECTION);
      if (slug === 'dapi')
        expect(readFileSync(join(tmp, 'packages/dapi/src/generated/client.ts'), 'utf8')).toContain(JSON.stringify(INPUT));
    },
  );
});
