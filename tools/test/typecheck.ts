// Type-checks code a reader copies (README snippets, reference samples)
// as a user's strict project would, against the packages' source (the
// `@portico/source` export condition), so no stale build can hide a break.
import ts from 'typescript';
import { packageName } from '../lib/specs.ts';

// What a reader has in scope before the snippets run.
export const prelude = (slug: string) => `
import type { Auth } from '${packageName(slug)}';
declare const clientId: string, clientSecret: string, callbackUrl: string, signal: AbortSignal;
declare const appSecret: string, userSecret: string, accessCode: string, connectionID: string;
declare const rawBody: string, signingSecret: string, request: { headers: Record<string, string> };
declare const auth: Auth;
declare function saveTokens(tokens: unknown): Promise<void>;
declare function askTheUser(question: string | undefined): string;
`;

/** Compiles in-memory modules (path -> source) in one program; returns each problem with the line it is on. */
export function typecheck(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['@portico/source'],
    types: ['node'],
    skipLibCheck: true,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (name) => files[name] ?? read(name);
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => name in files || exists(name);
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && d.file.fileName in files)
    .map((d) => {
      const line = files[d.file!.fileName]!.split('\n')[d.file!.getLineAndCharacterOfPosition(d.start!).line]?.trim();
      return `${d.file!.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n    at: ${line}`;
    });
}
