// Edge check: each provider's createClient, as installed, bundles with
// esbuild for the neutral platform (what edge bundlers target) without one
// Node.js built-in module, and without touching a Node-only global (Buffer,
// process, require, ...) that Workers, Vercel Edge or a browser lack.
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { PROVIDERS } from '../install/packing.ts';
import { EDGE_BUILD } from './harness.ts';

const BUILTIN = new RegExp(`^(node:|(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})(/|$))`);
// esbuild's define replaces only free references to a global: never a local
// binding, a property name, a string or a comment. Each one left in the
// output is a use of a global the edge does not have.
const NODE_GLOBALS = [
  'Buffer',
  'process',
  'global',
  'require',
  'module',
  'exports',
  '__dirname',
  '__filename',
  'setImmediate',
  'clearImmediate',
];
const MARK = '__portico_node_global_';
// Third-party uses known to be guarded, each with its reason. Never a @portico package.
const GUARDED = new Set([
  // Feature detection: `typeof process === "object" && process.versions.undici`, false on the edge.
  'openapi-fetch: process',
]);

/** The package a bundled module comes from, by the `// node_modules/...` comment esbuild puts before it. */
const packageOf = (path: string) => /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(path)?.[1] ?? path;

/** Bundles `contents` (resolved from the consumer project), recording each Node.js built-in it imports and each Node-only global it uses. */
async function bundle(contents: string) {
  const imported: string[] = [];
  const recordBuiltins: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: BUILTIN }, (args) => {
        imported.push(`${args.path} (from ${args.importer.replace(/^.*node_modules\//, '')})`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents, resolveDir: inject('consumer'), loader: 'js' },
    ...EDGE_BUILD,
    write: false,
    define: Object.fromEntries(NODE_GLOBALS.map((g) => [g, `${MARK}${g}`])),
    plugins: [recordBuiltins],
  });
  const code = result.outputFiles[0]!.text;
  const globals = new Set<string>();
  let module = '<stdin>';
  for (const line of code.split('\n')) {
    const header = /^\/\/ (\S+)$/.exec(line);
    if (header) module = packageOf(header[1]!);
    for (const m of line.matchAll(new RegExp(`${MARK}(\\w+)`, 'g'))) globals.add(`${module}: ${m[1]}`);
  }
  return { imported, globals: [...globals].filter((use) => !GUARDED.has(use)), bytes: code.length };
}

describe('edge bundle: createClient of each provider, platform neutral', () => {
  it.each(PROVIDERS)('%s bundles with no Node.js built-in module or global', async (name) => {
    const { imported, globals, bytes } = await bundle(`export { createClient } from '${name}';`);
    console.log(
      `bundle: ${name} createClient ${(bytes / 1024).toFixed(1)} KiB unminified, Node built-ins: ${imported.length}, Node globals: ${globals.length}`,
    );
    expect(imported, 'Node.js built-in modules imported').toEqual([]);
    expect(globals, 'Node.js-only globals referenced').toEqual([]);
  });

  it('the check sees a built-in import and a Node-only global', async () => {
    const probe = await bundle(
      `import { createHash } from 'node:crypto'; import 'fs'; export const x = [createHash, Buffer.from('a'), typeof process];`,
    );
    expect(probe.imported).toEqual(['node:crypto (from <stdin>)', 'fs (from <stdin>)']);
    expect(probe.globals.sort()).toEqual(['<stdin>: Buffer', '<stdin>: process']);
  });
});
