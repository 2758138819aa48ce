// `pnpm bench`: runs every benchmark (each in its own process), prints one
// table and writes BENCHMARKS.md. Every figure sits beside a baseline
// measured in the same run.
//   pnpm bench                 everything (under 10 minutes on 2 cores)
//   pnpm bench -- --only 1,2   some sections; --quick for a smoke run
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fmt, ROOT, type SectionResult, verdict, WORK } from './lib/results.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',').map(Number)) : undefined;
const t0 = performance.now();
const load0 = loadavg();

// Order: the CPU-sensitive microbenchmarks first, the long builds last; (5) uses (4)'s synthetic clients.
const SECTIONS: { n: number; file: string; node?: string[] }[] = [
  { n: 1, file: 'overhead.ts', node: ['--expose-gc'] },
  { n: 2, file: 'loopback.ts' },
  { n: 11, file: 'telemetry.ts' },
  { n: 3, file: 'singleflight.ts' },
  { n: 8, file: 'redis-store.ts' },
  { n: 7, file: 'memory.ts', node: ['--expose-gc'] },
  { n: 6, file: 'bundle.ts' },
  { n: 4, file: 'generation.ts' },
  { n: 5, file: 'typecheck.ts' },
  { n: 9, file: 'github.ts' },
  { n: 10, file: 'published.ts' },
];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', REDOCLY_TELEMETRY: 'off' };
const ran: { n: number; file: string; ms: number; load: [number, number] }[] = [];
for (const s of SECTIONS) {
  if (only && !only.has(s.n)) continue;
  const started = performance.now();
  const load = loadavg()[0]!;
  rmSync(join(WORK, 'results', `${s.n}.json`), { force: true });
  console.log(`\n== (${s.n}) bench/${s.file}`);
  const r = spawnSync(
    process.execPath,
    [...(s.node ?? []), '--import', 'tsx', join(ROOT, 'bench', s.file), ...(quick ? ['--quick'] : [])],
    { stdio: 'inherit', env, cwd: ROOT },
  );
  if (r.status !== 0) {
    console.error(`bench/${s.file} failed (exit ${r.status})`);
    process.exit(1);
  }
  ran.push({ n: s.n, file: s.file, ms: performance.now() - started, load: [load, loadavg()[0]!] });
}
const totalMs = performance.now() - t0;

const results: SectionResult[] = [];
for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
  const file = join(WORK, 'results', `${n}.json`);
  if (existsSync(file)) results.push(JSON.parse(readFileSync(file, 'utf8')));
}

// The one table.
const rows = results.flatMap((r) =>
  r.figures.map((f) => [
    String(r.section),
    f.label,
    fmt(f.value, f.unit),
    f.baselineLabel ? `${fmt(f.baseline!, f.unit)} (${f.baselineLabel})` : '',
    verdict(f),
  ]),
);
const head = ['#', 'figure', 'Portico', 'baseline (same run)', 'Portico / baseline'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${rows.map(line).join('\n')}`);
console.log(`\npnpm bench: ${(totalMs / 1000).toFixed(0)} s in all; BENCHMARKS.md written.`);

// BENCHMARKS.md
const mdTable = `| # | figure | Portico | baseline (same run) | Portico / baseline |\n| --- | --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`;
const tsVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version as string;
const pnpmVersion = spawnSync('pnpm', ['--version'], { encoding: 'utf8' }).stdout.trim();
const section = (n: number) => results.find((r) => r.section === n);
const md = `# Benchmarks

Written by \`pnpm bench\` (\`bench/run.ts\`); do not edit by hand, run it again. Every figure comes from one run of it, beside a baseline measured in that same run; ratios are Portico / baseline, so for throughput below 1 is slower and for times, bytes and latency above 1 is more. Benchmarks are never tests: nothing in \`npm test\` asserts a time.

## Machine and run

- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}
- Node.js ${process.version}, pnpm ${pnpmVersion}, TypeScript ${tsVersion}${section(5)?.details.includes('(native)') ? ` and ${section(5)!.details.match(/tsc (7[^ ]*) \(native\)/)?.[1] ?? '7'} (native)` : ''}
- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; \`pnpm bench\` took ${(totalMs / 1000 / 60).toFixed(1)} min${quick ? ' (--quick)' : ''}
- Load average (1 min) at start ${load0[0]!.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}: other work on this 2-core machine (anything above about 1 here is someone else's) shows up as noise, which is why contenders run in interleaved rounds.

| section | script | took | load average at start / end |
| --- | --- | --- | --- |
${ran.map((r) => `| ${r.n} | \`bench/${r.file}\` | ${(r.ms / 1000).toFixed(0)} s | ${r.load[0].toFixed(2)} / ${r.load[1].toFixed(2)} |`).join('\n')}

## Summary

${mdTable}

## How to reproduce

\`\`\`sh
npm run build    # the packages' dist/ is what is measured
pnpm bench       # everything, about ${Math.ceil(totalMs / 60_000)} min on 2 cores; prints the table above and rewrites this file
pnpm bench -- --only 1,2     # some sections (numbers as below); --quick for a short smoke run
node --import tsx bench/profile.ts portico get   # where a Portico call's time goes (node --cpu-prof), also 'post', 'openapi-fetch'
\`\`\`

Code: \`bench/\` (TypeScript run with tsx); scratch output (synthetic specs and clients, consumers, profiles, results) in the gitignored \`bench/.work/\`; the synthetic spec generator is \`tools/synthetic-spec.ts\` (\`tsx tools/synthetic-spec.ts 1000 out.yaml\`). The network is never used: fetch is stubbed in (1), servers bind to 127.0.0.1 in (2), (3) and (8); only (5) asks the npm registry once for \`typescript@7\` (kept in the temp dir afterwards).

Tools: **mitata** (\`measure()\`) for the call-overhead microbenchmarks (1): it batches many calls per sample, keeps JIT and GC effects visible in its statistics and returns them programmatically, so each contender is measured in its own process and the rounds are driven from one script (chosen over tinybench, which times every call on its own rather than in batches, and over vitest bench, which would run benchmarks inside the test runner); plain timed loops with \`performance.now()\` for (2) and (3), where the unit of work is a whole HTTP exchange under concurrency; wall time of child processes for (4) and (5); esbuild and zlib for (6); \`heapUsed\` after forced GCs for (7).

${results
  .map(
    (r) => `## ${r.section}. ${r.title}

${r.details}
`,
  )
  .join('\n')}
`;
writeFileSync(join(ROOT, 'BENCHMARKS.md'), md);
