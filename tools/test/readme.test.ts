// The code in each provider README is what users copy first: it must compile
// against the package as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, listProviders, packageName } from '../lib/specs.ts';

// What a reader has in scope before the snippets run.
const prelude = (slug: string) => `
import type { Auth } from '${packageName(slug)}';
declare const clientId: string, clientSecret: string, callbackUrl: string, signal: AbortSignal;
declare const appSecret: string, userSecret: string, accessCode: string, connectionID: string;
declare const rawBody: string, signingSecret: string, request: { headers: Record<string, string> };
declare const auth: Auth;
declare function saveTokens(tokens: unknown): Promise<void>;
declare function askTheUser(question: string | undefined): string;
`;

function snippets(slug: string): string {
  const readme = readFileSync(join(ROOT, 'packages', slug, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README examples compile', () => {
  it.each(listProviders())('%s', (slug) => {
    const file = join(ROOT, 'packages', slug, `README.example.ts`);
    const source = `${prelude(slug)}\n${snippets(slug)}\nexport {};\n`;
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      skipLibCheck: true,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (name) => (name === file ? source : read(name));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || exists(name);
    const program = ts.createProgram([file], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => `${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n    at: ${source.split('\n')[d.file!.getLineAndCharacterOfPosition(d.start!).line]?.trim()}`);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
