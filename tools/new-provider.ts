// Scaffolds packages/<slug> for a spec at specs/<slug>/openapi.yaml, registers
// the spec for lint and docs, gives the package a size budget, and generates it.
//   pnpm new-provider <slug> [--skip-install]
// --skip-install leaves `pnpm install` to you (a scratch copy of the tree, a CI step of your own).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { loadSpec, packageName, ROOT, specPath } from './lib/specs.ts';

const slug = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!slug || !/^[a-z0-9][a-z0-9-]*$/.test(slug)) {
  console.error('usage: pnpm new-provider <slug>   (lowercase letters, digits and dashes)');
  process.exit(2);
}
if (!existsSync(specPath(slug))) {
  console.error(`specs/${slug}/openapi.yaml does not exist: write the spec first (see specs/README.md).`);
  process.exit(2);
}
const doc = loadSpec(slug);
const dir = join(ROOT, 'packages', slug);
mkdirSync(dir, { recursive: true });
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'packages/runtime/package.json'), 'utf8'));
const write = (file: string, value: unknown) => {
  const path = join(dir, file);
  if (existsSync(path)) return console.log(`kept packages/${slug}/${file}`);
  writeFileSync(path, typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote packages/${slug}/${file}`);
};

write('package.json', {
  name: packageName(slug),
  version: '0.0.0',
  description: `Typed TypeScript client for the ${doc.info.title}, generated from its OpenAPI description, with auth handled.`,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: {
    '.': { '@portico/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  types: './dist/index.d.ts',
  files: ['dist', 'src', 'README.md', 'LICENSE', 'CHANGELOG.md'],
  engines: rootPkg.engines,
  repository: { ...rootPkg.repository, directory: `packages/${slug}` },
  homepage: rootPkg.homepage.replace('packages/runtime', `packages/${slug}`),
  keywords: ['openapi', 'sdk', 'typescript', 'portico', slug],
  publishConfig: rootPkg.publishConfig,
  scripts: { build: 'tsc -p tsconfig.json', generate: `node --import tsx ../../tools/generate.ts ${slug}` },
  dependencies: { '@portico/auth': 'workspace:^', '@portico/runtime': 'workspace:^' },
});
write('tsconfig.json', { extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] });
// Generation's real inputs: this provider's spec and the generator itself.
write('turbo.json', {
  $schema: 'https://turbo.build/schema.json',
  extends: ['//'],
  tasks: {
    generate: {
      inputs: [`$TURBO_ROOT$/specs/${slug}/**`, '$TURBO_ROOT$/tools/generate.ts', '$TURBO_ROOT$/tools/lib/**', 'package.json'],
      outputs: ['src/generated/**', 'src/index.ts', 'README.md'],
    },
  },
});
if (!existsSync(join(dir, 'LICENSE'))) copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));

const redoclyPath = join(ROOT, 'redocly.yaml');
const redocly = parseDocument(readFileSync(redoclyPath, 'utf8'));
if (!redocly.hasIn(['apis', slug])) {
  redocly.setIn(['apis', slug], redocly.createNode({ root: `specs/${slug}/openapi.yaml` }));
  writeFileSync(redoclyPath, redocly.toString());
  console.log(`registered ${slug} in redocly.yaml`);
}

// The size test fails a provider with no budget. A new one starts at the
// largest budget there is (every current client fits it), to be lowered to
// its measurement plus the usual margin once built.
const sizePath = join(ROOT, '.size-limit.js');
const { budgets } = (await import(pathToFileURL(sizePath).href)) as { budgets: Record<string, string> };
if (!(slug in budgets)) {
  const kb = (limit: string) => Number.parseFloat(limit);
  const start = Object.values(budgets).sort((a, b) => kb(b) - kb(a))[0] ?? '20 kB';
  const entries = Object.entries({ ...budgets, [slug]: start }).sort(([a], [b]) => a.localeCompare(b));
  const text = readFileSync(sizePath, 'utf8').replace(
    /export const budgets = \{[^}]*\};/,
    `export const budgets = {\n${entries.map(([name, limit]) => `  ${/^[a-z_$][\w$]*$/i.test(name) ? name : `'${name}'`}: '${limit}',`).join('\n')}\n};`,
  );
  if (text === readFileSync(sizePath, 'utf8'))
    throw new Error('.size-limit.js has no `export const budgets = { ... };` to add the budget to');
  writeFileSync(sizePath, text);
  console.log(`budgeted ${packageName(slug)} at ${start} in .size-limit.js (lower it to \`pnpm size\`'s figure plus about 8%)`);
}

if (!process.argv.includes('--skip-install')) execFileSync('pnpm', ['install', '--no-frozen-lockfile'], { cwd: ROOT, stdio: 'inherit' });
// This checkout's generator and tsx, wherever ROOT (PORTICO_ROOT) points.
execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('generate.ts', import.meta.url)), slug], {
  cwd: ROOT,
  stdio: 'inherit',
});
console.log(
  `\n${packageName(slug)} is ready. Next: \`pnpm lint\` (every spec), \`pnpm --filter ${packageName(slug)} build\`, \`pnpm size\` (then lower its budget), \`pnpm test\`, and \`pnpm changeset\` to release it.`,
);
