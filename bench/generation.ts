// (4) Generation: lint and generate (timed apart: `pnpm generate` does not
// lint) the five provider specs; the same for synthetic specs of 100, 1,000
// and 5,000 operations (tools/synthetic-spec.ts) to show how cost grows, with
// a CPU profile of the largest generation split by package; a second
// `pnpm build` with no change (turbo cache).
// Generated output goes to bench/.work (PORTICO_ROOT), never to packages/.
//   node --import tsx bench/generation.ts [--quick]
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { listProviders, loadSpec, operations } from '../tools/lib/specs.ts';
import { readSelfTimes } from './lib/cpuprofile.ts';
import { type Figure, fmt, ROOT, WORK, writeResult } from './lib/results.ts';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [100, 1000] : [100, 1000, 5000];
const started = performance.now();
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', TURBO_TELEMETRY_DISABLED: '1' };

/** Runs a command, fails loudly on a non-zero exit, returns its wall time in ms. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return ms;
}

// The five provider specs: lint as `pnpm lint` does, generate into a copy of the tree.
const realRoot = join(WORK, 'gen', 'real');
rmSync(realRoot, { recursive: true, force: true });
const slugs = listProviders();
for (const slug of slugs) {
  cpSync(join(ROOT, 'specs', slug), join(realRoot, 'specs', slug), { recursive: true });
  mkdirSync(join(realRoot, 'packages', slug), { recursive: true });
  copyFileSync(join(ROOT, 'packages', slug, 'package.json'), join(realRoot, 'packages', slug, 'package.json'));
}
// Operations of a generated synthetic spec: method keys under a path (4-space indent), no full parse.
const ops = (file: string) => (readFileSync(file, 'utf8').match(/^ {4}(?:get|put|post|delete|patch|head|options|trace):$/gm) ?? []).length;
const realOps = slugs.reduce((n, s) => n + operations(loadSpec(s)).length, 0);
const realLint = run(bin('redocly'), ['lint', '--format=stylish']);
// Generation is timed as the best of a few runs: other work on the machine only ever adds time.
const GEN_RUNS = quick ? 1 : 3;
const bestOf = (time: () => number) => Math.min(...Array.from({ length: GEN_RUNS }, time));
// As the packages' `generate` scripts run it: node with tsx's loader (the tsx command would add a process).
const realGen = bestOf(() =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, 'tools', 'generate.ts')], { env: { ...env, PORTICO_ROOT: realRoot } }),
);
const drift = slugs.filter((slug) =>
  readdirSync(join(ROOT, 'packages', slug, 'src', 'generated')).some(
    (f) =>
      readFileSync(join(ROOT, 'packages', slug, 'src', 'generated', f), 'utf8') !==
      readFileSync(join(realRoot, 'packages', slug, 'src', 'generated', f), 'utf8'),
  ),
);

// Synthetic specs: write, lint with the repository's rules, generate, build (tsc, as a provider package builds).
const synthRoot = join(WORK, 'synth');
rmSync(synthRoot, { recursive: true, force: true });
const portico = join(WORK, 'node_modules', '@portico');
mkdirSync(portico, { recursive: true });
const link = (name: string, target: string) => {
  rmSync(join(portico, name), { force: true, recursive: true });
  symlinkSync(target, join(portico, name));
};
for (const p of ['runtime', 'auth', ...slugs]) link(p, join(ROOT, 'packages', p));
const synth: Record<
  number,
  { write: number; lint: number; gen: number; build: number; specBytes: number; schemaBytes: number; dtsBytes: number }
> = {};
for (const n of SIZES) {
  const slug = `synth-${n}`;
  const spec = join(synthRoot, 'specs', slug, 'openapi.yaml');
  const pkg = join(synthRoot, 'packages', slug);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify(
      {
        name: `@portico/${slug}`,
        version: '0.0.0',
        type: 'module',
        sideEffects: false,
        exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(pkg, 'tsconfig.json'),
    JSON.stringify(
      {
        extends: join(ROOT, 'tsconfig.base.json'),
        compilerOptions: { rootDir: 'src', outDir: 'dist', declarationMap: false, sourceMap: false },
        include: ['src'],
      },
      null,
      2,
    ),
  );
  link(slug, pkg);
  const write = run(bin('tsx'), [join(ROOT, 'tools', 'synthetic-spec.ts'), String(n), spec]);
  if (ops(spec) !== n) throw new Error(`${slug}: ${ops(spec)} operations`);
  const lint = run(bin('redocly'), ['lint', '--format=stylish', '--config', join(ROOT, 'redocly.yaml'), spec]);
  const gen = bestOf(() =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'tools', 'generate.ts'), slug], { env: { ...env, PORTICO_ROOT: synthRoot } }),
  );
  const build = run(bin('tsc'), ['-p', join(pkg, 'tsconfig.json')]);
  synth[n] = {
    write,
    lint,
    gen,
    build,
    specBytes: statSync(spec).size,
    schemaBytes: statSync(join(pkg, 'src', 'generated', 'schema.ts')).size,
    dtsBytes: statSync(join(pkg, 'dist', 'generated', 'schema.d.ts')).size,
  };
  console.log(`${slug}: lint ${(lint / 1000).toFixed(1)} s, generate ${(gen / 1000).toFixed(1)} s, build ${(build / 1000).toFixed(1)} s`);
}

// Where the largest generation's time goes: the same run under the CPU profiler, self time by package.
const largest = SIZES.at(-1)!;
const profileDir = join(WORK, 'profiles', 'generate');
rmSync(profileDir, { recursive: true, force: true });
run(
  process.execPath,
  ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', join(ROOT, 'tools', 'generate.ts'), `synth-${largest}`],
  { env: { ...env, PORTICO_ROOT: synthRoot } },
);
const shares = profileShares(join(profileDir, readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))!));

/** Self time of a CPU profile's main thread by where the code lives, as shares of the busy time. */
function profileShares(file: string): [string, number][] {
  const { profile, self } = readSelfTimes(file);
  const by = new Map<string, number>();
  for (const { id, callFrame } of profile.nodes) {
    const t = self.get(id) ?? 0;
    if (!t || callFrame.functionName === '(idle)') continue;
    const pkg = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(callFrame.url)?.[1]?.replace('+', '/');
    const where =
      pkg ??
      (callFrame.url.includes('/tools/')
        ? 'the generator (tools/)'
        : callFrame.url.startsWith('node:')
          ? 'Node.js (module loading, fs)'
          : callFrame.functionName);
    by.set(where, (by.get(where) ?? 0) + t);
  }
  const busy = [...by.values()].reduce((a, b) => a + b, 0);
  return [...by].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / busy]);
}

// `pnpm build` twice; the second, with no change in between, should be all turbo cache hits.
const runsDir = join(ROOT, '.turbo', 'runs');
const firstBuild = run('pnpm', ['build']);
const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
const secondBuild = run('pnpm', ['build'], { env: { ...env, TURBO_RUN_SUMMARY: 'true' } });
const summaries = (existsSync(runsDir) ? readdirSync(runsDir) : []).filter((f) => !before.has(f));
let tasks = 0;
let hits = 0;
let saved = 0;
for (const f of summaries) {
  const s = JSON.parse(readFileSync(join(runsDir, f), 'utf8')) as { tasks: { cache: { status: string; timeSaved: number } }[] };
  for (const t of s.tasks) {
    tasks++;
    if (t.cache.status === 'HIT') hits++;
    saved += t.cache.timeSaved ?? 0;
  }
  rmSync(join(runsDir, f));
}

const s = (ms: number) => ms / 1000;
const base = synth[100]!;
const synthFigures = (n: number): Figure[] => [
  {
    label: `generate (no lint), synthetic ${n.toLocaleString('en-US')} ops`,
    value: s(synth[n]!.gen),
    unit: 's',
    baselineLabel: 'synthetic 100 ops',
    baseline: s(base.gen),
    better: 'lower',
    note: n === 5000 ? 'target <= 4 s' : `${n / 100}x the operations`,
  },
  {
    label: `lint, synthetic ${n.toLocaleString('en-US')} ops`,
    value: s(synth[n]!.lint),
    unit: 's',
    baselineLabel: 'synthetic 100 ops',
    baseline: s(base.lint),
    better: 'lower',
    note: `${n / 100}x the operations`,
  },
];
const figures: Figure[] = [
  {
    label: `generate (no lint), five provider specs (${realOps} ops)`,
    value: s(realGen),
    unit: 's',
    baselineLabel: 'synthetic 100 ops',
    baseline: s(base.gen),
    better: 'lower',
  },
  {
    label: `lint, five provider specs (${realOps} ops)`,
    value: s(realLint),
    unit: 's',
    baselineLabel: 'synthetic 100 ops',
    baseline: s(base.lint),
    better: 'lower',
  },
  ...SIZES.filter((n) => n !== 100).flatMap(synthFigures),
  {
    label: 'second `pnpm build`, no change (turbo cache)',
    value: s(secondBuild),
    unit: 's',
    baselineLabel: 'same tasks uncached, turbo timeSaved',
    baseline: s(saved),
    better: 'lower',
    note: `${hits}/${tasks} tasks cache hits`,
  },
];
const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
const details = `Lint is \`redocly lint\` with the repository's \`redocly.yaml\` (recommended-strict plus Portico's rules, \`x-portico-auth\` validated); generation is \`tools/generate.ts\` (openapi-typescript types, spec constants, client, README) run with \`PORTICO_ROOT\` pointing at a copy under \`bench/.work\`, so nothing in \`packages/\` is written. Each step is a fresh process, timed end to end (start-up included): lint and build once per run, generation as the best of ${GEN_RUNS} runs. openapi-typescript is loaded as CommonJS (\`tools/lib/types.ts\`): its ES module build imports TypeScript as an ES module, and Node 20 then scans all of typescript.js for export names, which cost every generation 0.37 s (5,000 operations: 4.15 s before, 3.80 s after, three runs each).

| spec | operations | spec size | lint | generate | lint + generate | per operation | generated schema.ts | build (tsc) | schema.d.ts |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| five provider specs | ${realOps} | | ${fmt(realLint, 'ms')} | ${fmt(realGen, 'ms')} | ${fmt(realLint + realGen, 'ms')} | ${((realLint + realGen) / realOps).toFixed(1)} ms | | | |
${SIZES.map((n) => {
  const r = synth[n]!;
  return `| synthetic | ${n.toLocaleString('en-US')} | ${kb(r.specBytes)} | ${fmt(r.lint, 'ms')} | ${fmt(r.gen, 'ms')} | ${fmt(r.lint + r.gen, 'ms')} | ${((r.lint + r.gen) / n).toFixed(1)} ms | ${kb(r.schemaBytes)} | ${fmt(r.build, 'ms')} | ${kb(r.dtsBytes)} |`;
}).join('\n')}

Where the synthetic ${largest.toLocaleString('en-US')}-operation generation spends its CPU (\`node --cpu-prof\`, self time of the main thread by package, idle left out; V8's own work in parentheses): ${shares
  .filter(([, share]) => share >= 0.01)
  .map(([where, share]) => `${where} ${(share * 100).toFixed(0)}%`)
  .join(
    ', ',
  )}. openapi-typescript builds the \`paths\`/\`components\` syntax tree and TypeScript's printer writes it; the generator's own work is reading the spec (js-yaml) and the constants, client and README.

The five providers' generated files from the copy are ${drift.length ? `different from the committed ones for ${drift.join(', ')} (the generator or a spec changed since they were generated)` : 'identical to the committed ones'}. The synthetic specs (\`tools/synthetic-spec.ts\`; resources with list (cursor-paginated), create, read, replace and delete, their own schemas, \`x-portico-auth\` client credentials) pass the same lint with no problem. The build column is \`tsc -p\` of the generated synthetic package (what \`pnpm build\` does for a provider), needed for (5).

\`pnpm build\` (setup, \`turbo run lint\`, \`generate\`, \`build\`, \`docs\`) run twice in a row: the first took ${fmt(firstBuild, 'ms')} (cache as found), the second ${fmt(secondBuild, 'ms')}, with ${hits} of ${tasks} turbo tasks cache hits; turbo records ${fmt(saved, 'ms')} of task time saved (the tasks' uncached durations, summed; they partly run in parallel).`;
writeResult({ section: 4, title: 'Generation', figures, details, ms: performance.now() - started });
console.log(details);
