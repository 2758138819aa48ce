// Scaffolds packages/<slug> for a spec at specs/<slug>/openapi.yaml, registers
// the spec for lint, docs and the CLI, gives the package a size budget, and generates it.
//   pnpm new-provider <slug> [--skip-install]
//   pnpm new-provider <slug> --from <path or http(s) URL> [--force] [--timeout <seconds>] [--skip-install]
// --from imports an OpenAPI 3.0 or 3.1 document written elsewhere (YAML or
// JSON) as specs/<slug>/openapi.yaml, with an x-portico-auth derived from its
// security schemes (tools/lib/import.ts), lints it with the imported rule set
// (tools/redocly/imported.yaml), and after generating builds the package and
// budgets its measured size; a spec it marked (x-portico-imported) takes that
// road again on a run without --from. --force replaces an existing specs/<slug>/openapi.yaml.
// --skip-install leaves `pnpm install` to you (a scratch copy of the tree, a CI step of your own).

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { deriveAuth, ImportError, importedText, importMarker, importWarnings, parseSource, printable, readSource } from './lib/import.ts';
import { defaultServerUrl, IMPORTED_RULES, isImported, loadSpec, packageName, ROOT, specPath } from './lib/specs.ts';

const USAGE =
  'usage: pnpm new-provider <slug> [--from <path or http(s) URL> [--force] [--timeout <seconds>]] [--skip-install]   (slug: at most 64 lowercase letters, digits and dashes)';
const TOOLS = fileURLToPath(new URL('.', import.meta.url));
const bin = (name: string) => join(TOOLS, '..', 'node_modules', '.bin', name);
const REDOCLY_ENV = { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };

/**
 * Runs one step with its output on the terminal. The output quotes the
 * document (lint names its keys, the compiler its identifiers), so it is
 * shown with control characters escaped (tabs and line breaks kept), once the
 * step is done. When it fails, `failed` (or "<what> failed") says so; a step
 * that could not start says why instead, since then there is no output above.
 */
function run(what: string, command: string, args: string[], env?: NodeJS.ProcessEnv, failed?: string): void {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: ['inherit', 'pipe', 'pipe'],
    maxBuffer: 256 * 2 ** 20,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const show = (out: Buffer | null, to: NodeJS.WriteStream) => {
    if (out?.length) to.write(out.toString().replace(/[^\t\n]+/g, printable));
  };
  show(result.stdout, process.stdout);
  show(result.stderr, process.stderr);
  if (result.error || result.status === null)
    throw new ImportError(`${what} could not run: ${(result.error?.message ?? `killed by ${result.signal}`).split('\n')[0]}`);
  if (result.status !== 0) throw new ImportError(failed ?? `${what} failed (exit ${result.status}); its output is above`);
}

let options: { from?: string; force?: boolean; timeout?: string; 'skip-install'?: boolean };
let slug: string | undefined;
try {
  const parsed = parseArgs({
    options: { from: { type: 'string' }, force: { type: 'boolean' }, timeout: { type: 'string' }, 'skip-install': { type: 'boolean' } },
    allowPositionals: true,
  });
  options = parsed.values;
  if (parsed.positionals.length > 1) throw new Error(`one slug, not ${parsed.positionals.length}`);
  slug = parsed.positionals[0];
} catch (e) {
  console.error(`new-provider: ${(e as Error).message.split('\n')[0]}\n${USAGE}`);
  process.exit(2);
}
// 64: a directory and package name on every file system, and more than any provider's name needs.
if (!slug || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug)) {
  console.error(USAGE);
  process.exit(2);
}
const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
// AbortSignal.timeout takes up to 2^31-1 ms: an hour is more than any document needs.
if (
  (options.from === undefined && (options.force || timeout !== undefined)) ||
  (timeout !== undefined && !(timeout > 0 && timeout <= 3600))
) {
  console.error(`new-provider: --force and --timeout <seconds> (more than 0, at most 3600) go with --from\n${USAGE}`);
  process.exit(2);
}

try {
  await main(slug);
} catch (e) {
  // A problem with the input or a step: one line, what went wrong and, where there is one, what to do.
  // Anything else is a bug here: its stack, not a message that reads like the user's problem.
  if (!(e instanceof ImportError)) throw e;
  // The message may quote the document: printed with its control characters escaped, on one line.
  console.error(`new-provider: ${printable(e.message)}`);
  process.exit(e.exitCode);
}

async function main(slug: string): Promise<void> {
  const fresh = options.from === undefined ? undefined : await importSpec(slug, options.from);
  if (!existsSync(specPath(slug))) {
    console.error(`specs/${slug}/openapi.yaml does not exist: write the spec first, or import one with --from (see specs/README.md).`);
    process.exit(2);
  }
  let doc: Record<string, any>;
  try {
    doc = loadSpec(slug);
  } catch (e) {
    throw new ImportError(`specs/${slug}/openapi.yaml cannot be read: ${(e as Error).message.split('\n')[0]}`);
  }
  // An imported spec takes the import's road on a later run too (after fixing what lint found).
  const imported = isImported(doc);
  register(slug, imported);
  if (imported) {
    run(
      'lint',
      bin('redocly'),
      ['lint', slug, '--format=stylish', '--config', join(ROOT, 'redocly.yaml')],
      REDOCLY_ENV,
      `specs/${slug}/openapi.yaml is written and registered, but lint (the imported rule set) finds the problems above: fix them there, then run \`pnpm new-provider ${slug}\``,
    );
  }
  const dir = scaffold(slug, doc);
  // A hand-written spec starts at the largest budget (lowered once measured); an import is measured after its build.
  if (!imported) await budget(slug, undefined);
  const cli = addToCli(slug);

  if (!options['skip-install']) run('pnpm install', 'pnpm', ['install', '--no-frozen-lockfile']);
  // This checkout's generator and tsx, wherever ROOT (PORTICO_ROOT) points.
  const tsx = ['--import', import.meta.resolve('tsx')];
  run('generating the package', process.execPath, [...tsx, join(TOOLS, 'generate.ts'), slug]);
  if (cli) run('generating the CLI catalog', process.execPath, [...tsx, join(TOOLS, 'cli-catalog.ts')]);
  if (!imported) {
    console.log(
      `\n${packageName(slug)} is ready. Next: \`pnpm lint\` (every spec), \`pnpm --filter ${packageName(slug)} build\`, \`pnpm size\` (then lower its budget), \`pnpm test\`, and \`pnpm changeset\` to release it.`,
    );
    return;
  }
  // The package's build script (`tsc -p tsconfig.json`), run with this checkout's compiler.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  run(`building ${packageName(slug)}`, process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]);
  console.log(`built packages/${slug}/dist`);
  await budget(slug, measure(slug));
  console.log(nextSteps(slug, fresh ?? { uncovered: [], leftOut: [], ownProfile: false, extensions: [] }));
}

interface Imported {
  uncovered: string[];
  leftOut: string[];
  ownProfile: boolean;
  /** The document's own x-portico-* keys, kept as it wrote them. */
  extensions: string[];
}

/** Reads, checks and writes the document as specs/<slug>/openapi.yaml; nothing is written unless all of it succeeds. */
async function importSpec(slug: string, from: string): Promise<Imported> {
  const target = join(ROOT, 'specs', slug);
  // --force writes through neither: a link would put the spec (and what is generated from it) outside specs/.
  for (const path of [target, specPath(slug)]) {
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink())
      throw new ImportError(`${path.slice(ROOT.length + 1)} is a symbolic link: the import writes only into specs/ itself`);
  }
  if (existsSync(target) && !options.force)
    throw new ImportError(`specs/${slug}/ already exists: pass --force to replace its openapi.yaml with the import`);
  const source = await readSource(from, ROOT, timeout === undefined ? {} : { timeoutMs: timeout * 1000 });
  // Named as recorded: a URL without its query, where a token would be.
  const parsed = parseSource(source.source, source.bytes);
  const own = parsed.doc['x-portico-auth'] !== undefined;
  const derived = own ? undefined : deriveAuth(parsed.doc, slug);
  mkdirSync(target, { recursive: true });
  writeFileSync(specPath(slug), importedText(parsed, importMarker(source), derived?.profile));
  console.log(
    printable(
      `wrote specs/${slug}/openapi.yaml (OpenAPI ${parsed.doc.openapi}, ${parsed.format === 'json' ? 'JSON' : 'YAML'}) from ${source.source}${own ? ', keeping its own x-portico-auth' : ''}`,
    ),
  );
  for (const warning of importWarnings(source.source, parsed.doc)) console.log(printable(`warning: ${warning}`));
  return { uncovered: derived?.uncovered ?? [], leftOut: derived?.leftOut ?? [], ownProfile: own, extensions: parsed.extensions };
}

/** The spec's redocly.yaml entry: an imported spec (x-portico-imported) is linted with the imported rule set, the others with the house rules. */
function register(slug: string, imported: boolean): void {
  const redoclyPath = join(ROOT, 'redocly.yaml');
  const text = readFileSync(redoclyPath, 'utf8');
  const redocly = parseDocument(text);
  if (!redocly.hasIn(['apis', slug])) redocly.setIn(['apis', slug], redocly.createNode({ root: `specs/${slug}/openapi.yaml` }));
  const extendsPath = ['apis', slug, 'extends'];
  const current = redocly.getIn(extendsPath);
  const importedRules = JSON.stringify((current as { toJSON?: () => unknown })?.toJSON?.()) === JSON.stringify([IMPORTED_RULES]);
  if (imported && !importedRules) redocly.setIn(extendsPath, redocly.createNode([IMPORTED_RULES]));
  if (!imported && importedRules) redocly.deleteIn(extendsPath);
  if (redocly.toString() === text) return;
  writeFileSync(redoclyPath, redocly.toString());
  console.log(`registered ${slug} in redocly.yaml${imported ? ` with the imported rule set (${IMPORTED_RULES})` : ''}`);
}

/** packages/<slug>: package.json, tsconfig, turbo.json and LICENSE, each kept if it exists. */
function scaffold(slug: string, doc: Record<string, any>): string {
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
  // Generation's real inputs: this provider's spec and the generator itself, with the two mock modules its README code reads.
  write('turbo.json', {
    $schema: 'https://turbo.build/schema.json',
    extends: ['//'],
    tasks: {
      generate: {
        inputs: [
          `$TURBO_ROOT$/specs/${slug}/**`,
          '$TURBO_ROOT$/tools/generate.ts',
          '$TURBO_ROOT$/tools/lib/**',
          '$TURBO_ROOT$/packages/mock/src/facts.ts',
          '$TURBO_ROOT$/packages/mock/src/values.ts',
          'package.json',
        ],
        outputs: ['src/generated/**', 'src/index.ts', 'README.md'],
      },
    },
  });
  if (!existsSync(join(dir, 'LICENSE'))) copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  return dir;
}

/**
 * The package's size budget in .size-limit.js (the size test fails a provider
 * with none): `limit`, or where there is none yet, the largest budget there is
 * (every current client fits it), to be lowered to its measurement plus the
 * usual margin once built.
 */
async function budget(slug: string, limit: string | undefined): Promise<void> {
  const sizePath = join(ROOT, '.size-limit.js');
  const before = readFileSync(sizePath, 'utf8');
  const { budgets } = (await import(pathToFileURL(sizePath).href)) as { budgets: Record<string, string> };
  if (limit === undefined && slug in budgets) return;
  const kb = (value: string) => Number.parseFloat(value);
  const start = limit ?? Object.values(budgets).sort((a, b) => kb(b) - kb(a))[0] ?? '20 kB';
  const entries = Object.entries({ ...budgets, [slug]: start }).sort(([a], [b]) => a.localeCompare(b));
  const text = before.replace(
    /export const budgets = \{[^}]*\};/,
    `export const budgets = {\n${entries.map(([name, value]) => `  ${/^[a-z_$][\w$]*$/i.test(name) ? name : `'${name}'`}: '${value}',`).join('\n')}\n};`,
  );
  if (!/export const budgets = \{[^}]*\};/.test(before))
    throw new ImportError('.size-limit.js has no `export const budgets = { ... };` to add the budget to');
  if (text === before) return;
  writeFileSync(sizePath, text);
  console.log(
    limit
      ? `budgeted ${packageName(slug)} at ${start} in .size-limit.js (its measured size plus 8%)`
      : `budgeted ${packageName(slug)} at ${start} in .size-limit.js (lower it to \`pnpm size\`'s figure plus about 8%)`,
  );
}

/** The built package's size as `pnpm size` measures it, plus 8%, rounded up to 0.5 kB. */
function measure(slug: string): string {
  const work = mkdtempSync(join(tmpdir(), 'portico-size-'));
  try {
    const config = join(work, 'size-limit.mjs');
    const path = join(ROOT, 'packages', slug, 'dist', 'index.js');
    writeFileSync(config, `export default ${JSON.stringify([{ name: packageName(slug), path, import: '*', gzip: true }])};\n`);
    let out: string;
    try {
      out = execFileSync(bin('size-limit'), ['--json', '--config', config], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    } catch (e) {
      throw new ImportError(
        `measuring ${packageName(slug)} with size-limit failed: ${String((e as { stdout?: string }).stdout ?? (e as Error).message).split('\n')[0]}`,
      );
    }
    const [result] = JSON.parse(out) as { size: number }[];
    console.log(
      `measured ${packageName(slug)}: ${(result!.size / 1000).toFixed(2)} kB (min+gz, with @portico/runtime, @portico/auth and openapi-fetch)`,
    );
    return `${Math.ceil((result!.size * 1.08) / 500) / 2} kB`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The CLI loads every provider package: a new one is its dependency. False where the tree has no CLI (a scratch copy). */
function addToCli(slug: string): boolean {
  const path = join(ROOT, 'packages/cli/package.json');
  if (!existsSync(path)) return false;
  const pkg = JSON.parse(readFileSync(path, 'utf8'));
  if (pkg.dependencies?.[packageName(slug)] === undefined) {
    const deps = { ...pkg.dependencies, [packageName(slug)]: 'workspace:^' };
    pkg.dependencies = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
    console.log(`added ${packageName(slug)} to packages/cli/package.json`);
  }
  return true;
}

/**
 * Where the client sends requests and credentials: the API's origin (the first
 * server), and that of each OAuth URL of the profile, flagged where it is
 * another: a document can name any host, so the user checks it is the provider's.
 */
function origins(spec: Record<string, any>): string[] {
  let api: string;
  try {
    api = new URL(defaultServerUrl(spec)).origin;
  } catch {
    return [];
  }
  const auth = spec['x-portico-auth'] ?? {};
  const urls: [string, unknown][] = [
    ['authorization URL', auth.authorization?.url],
    ['token URL', auth.token?.url],
    ...Object.entries<any>(auth.token?.grants ?? {}).map(([grant, request]): [string, unknown] => [`${grant} URL`, request?.url]),
    ['revocation URL', auth.revocation?.url],
  ];
  return [
    `API: ${api}`,
    ...urls
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([what, url]) => {
        // A path is appended to the client's base URL: the API's origin.
        const origin = url.startsWith('/') ? api : (URL.parse(url)?.origin ?? url);
        return origin === api
          ? `${what}: ${origin}`
          : `${what}: ${origin}, not the API's origin: credentials go to ${origin}: check it is the provider's`;
      }),
  ];
}

/** What the import could not know, and what to do next. */
function nextSteps(slug: string, { uncovered, leftOut, ownProfile, extensions }: Imported): string {
  const name = packageName(slug);
  // Each item may quote the document: on one line, its control characters escaped.
  const list = (items: string[], max = 10) =>
    [...items.slice(0, max), ...(items.length > max ? [`... and ${items.length - max} more`] : [])]
      .map((l) => `  - ${printable(l)}`)
      .join('\n');
  const spec = loadSpec(slug);
  const auth = spec['x-portico-auth'];
  const where = origins(spec);
  return [
    `\n${name} is generated and built from the imported specs/${slug}/openapi.yaml.`,
    ...(where.length ? [`Where it sends requests and credentials:\n${list(where, 99)}`] : []),
    ...(extensions.length
      ? [
          `Kept from the document: its own x-portico-* extensions (review each; the generator and runtime act on them):\n${list(extensions, 99)}`,
        ]
      : []),
    ...(leftOut.length ? [`Left out of x-portico-auth:\n${list(leftOut)}`] : []),
    ...(uncovered.length
      ? [`${uncovered.length} operation(s) will go without a credential (their security names only schemes left out):\n${list(uncovered)}`]
      : []),
    `Hand-tune specs/${slug}/openapi.yaml (specs/README.md, "Adding a provider"):`,
    list(
      [
        ownProfile
          ? 'x-portico-auth: the document brought its own; check it against the provider'
          : auth.grants
            ? 'x-portico-auth: what the document is silent on (its description says what was assumed): token client authentication, PKCE required or not, refresh rotation, revocation, scope defaults'
            : 'x-portico-auth: check the credential inputs against the provider, and add `headers` for a constant header it requires',
        'examples on parameters and bodies: the README and the reference samples call with them, and the wire test takes the spec once promoted',
        'x-portico-pagination on list operations, x-portico-retry-safe on POSTs that only read',
        `to hold it to the house rules: remove x-portico-imported from the spec and \`extends\` from its redocly.yaml entry, then \`pnpm lint\``,
      ],
      99,
    ),
    `Then \`pnpm lint\`, \`pnpm test\`, and \`pnpm changeset\` to release ${name}.`,
  ].join('\n');
}
