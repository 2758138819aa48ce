// (10) Providers' published OpenAPI documents, imported as a user does it
// (`pnpm new-provider <slug> --from <file>`, issue 23), against the targets
// of that issue: generation no slower than bare openapi-typescript on the
// same document, tsc on a consumer of 5 calls <= 1.2x bare openapi-fetch over
// the same `paths`, and createClient's entry chunk <= 25 kB min+gz.
//   node --import tsx bench/published.ts [--quick]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { consumerOf, DOCUMENTS, PUBLISHED_SPECS } from '../test/published/documents.ts';
import { scratchTree } from '../tools/test/scratch-tree.ts';
import { bareHead, entryChunks, typecheckMs } from './lib/package.ts';
import { type Figure, fmt, median, ROOT, WORK, writeResult } from './lib/results.ts';

const started = performance.now();
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
if (!existsSync(join(PUBLISHED_SPECS, 'SOURCES.md')))
  throw new Error(`${PUBLISHED_SPECS} is missing: the published documents sit beside the checkout (or set PORTICO_PUBLISHED_SPECS)`);

const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const node = (args: string[], extra: NodeJS.ProcessEnv = {}, cwd = ROOT) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return performance.now() - t0;
};
const tsx = ['--import', import.meta.resolve('tsx')];
const openapiTypescript = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

const tree = scratchTree('portico-bench-published-');
const rows: {
  slug: string;
  ops: number;
  generate: number;
  bare: number;
  tscPortico: number;
  tscBare: number;
  entry: number;
  lazy: number;
}[] = [];
try {
  for (const doc of DOCUMENTS) {
    const file = join(PUBLISHED_SPECS, doc.file);
    const pkg = join(tree, 'packages', doc.slug);
    mkdirSync(join(pkg, 'node_modules', '@portico'), { recursive: true });
    for (const dep of ['auth', 'runtime']) symlinkSync(join(ROOT, 'packages', dep), join(pkg, 'node_modules', '@portico', dep));
    // The import itself: lint, generate, build (and a size measure) in one command.
    node([...tsx, join(ROOT, 'tools', 'new-provider.ts'), doc.slug, '--from', file, '--skip-install'], { PORTICO_ROOT: tree });

    // Generation, each a fresh process with its start-up, in interleaved rounds.
    const generate: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      generate.push(node([...tsx, join(ROOT, 'tools', 'generate.ts'), doc.slug], { PORTICO_ROOT: tree }));
      // Run outside the tree: openapi-typescript reads a redocly.yaml in its working directory as a list of APIs to generate.
      bare.push(node([openapiTypescript, file, '-o', join(WORK, `published-${doc.slug}.ts`)], {}, WORK));
    }
    const head = `import { createClient } from './dist/index.js';\nconst client = createClient({ auth: ${JSON.stringify(doc.auth)} });`;
    const tscPortico = typecheckMs(pkg, 'portico', consumerOf(head, doc.calls));
    const tscBare = typecheckMs(pkg, 'bare', consumerOf(bareHead('https://api.example.com'), doc.calls));
    const { entry, lazy } = await entryChunks(pkg);
    const ops = Number(/(\d+) operations/.exec(readFileSync(join(pkg, 'README.md'), 'utf8'))?.[1] ?? 0);
    rows.push({
      slug: doc.slug,
      ops,
      generate: median(generate),
      bare: median(bare),
      tscPortico,
      tscBare,
      entry: entry.gz,
      lazy: lazy.reduce((n, c) => n + c.gz, 0),
    });
    console.log(`${doc.slug}: done`);
  }
} finally {
  rmSync(tree, { recursive: true, force: true });
}

const s = (ms: number) => ms / 1000;
const figures: Figure[] = rows.flatMap((r) => [
  {
    label: `${r.slug} (published, ${r.ops} ops): generate`,
    value: s(r.generate),
    unit: 's',
    baselineLabel: 'bare openapi-typescript',
    baseline: s(r.bare),
    better: 'lower' as const,
  },
  {
    label: `${r.slug}: tsc --noEmit, consumer with 5 calls`,
    value: s(r.tscPortico),
    unit: 's',
    baselineLabel: 'same calls, bare openapi-fetch',
    baseline: s(r.tscBare),
    better: 'lower' as const,
  },
  {
    label: `${r.slug}: createClient entry chunk (min+gz)`,
    value: r.entry,
    unit: 'B',
    baselineLabel: 'target',
    baseline: 25_000,
    better: 'lower' as const,
  },
]);
const details = `The five documents of \`../shared/published-specs\` (read there, never copied; \`test/published/documents.ts\` lists them with their calls), each imported into a scratch tree by \`pnpm new-provider <slug> --from <file> --skip-install\`. Generation is the median of ${ROUNDS} fresh \`tools/generate.ts\` processes (schema types, client, spec data, README), interleaved with as many fresh \`openapi-typescript <file> -o x.ts\` processes (types only), start-up included in both. tsc is one \`tsc -p\` of a consumer of the same five calls on a Portico client and on bare openapi-fetch over the package's generated \`paths\`. The entry chunk is esbuild's, with code splitting; chunks loaded on the first response validated are listed apart.

| document | ops | generate: Portico / openapi-typescript | tsc, 5 calls: Portico / bare | entry chunk min+gz (target 25 kB) | loaded on first validation |
| --- | --- | --- | --- | --- | --- |
${rows
  .map(
    (r) =>
      `| ${r.slug} | ${r.ops} | ${fmt(s(r.generate), 's')} / ${fmt(s(r.bare), 's')} | ${fmt(s(r.tscPortico), 's')} / ${fmt(s(r.tscBare), 's')} | ${fmt(r.entry, 'B')} | ${r.lazy ? fmt(r.lazy, 'B') : 'none'} |`,
  )
  .join('\n')}`;
writeResult({ section: 10, title: "Providers' published documents, imported", figures, details, ms: performance.now() - started });
console.log(details);
