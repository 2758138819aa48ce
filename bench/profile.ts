// Where Portico's call overhead goes: runs one client's calls in a loop under
// `node --cpu-prof` and prints the functions with the most self time, and the
// share per package. Used to find and check the runtime fixes in BENCHMARKS.md.
//   node --import tsx bench/profile.ts [portico|openapi-fetch] [get|post] [calls]
//   node --import tsx bench/profile.ts --analyze file.cpuprofile
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSelfTimes } from './lib/cpuprofile.ts';
import { ROOT, WORK } from './lib/results.ts';

const [who = 'portico', op = 'get', calls = '40000'] = process.argv.slice(2);

if (process.env.PORTICO_PROFILE_CHILD) {
  const { cannedFetch, DEXERO_BASE, ACCESS_TOKEN, SEARCH_QUERY, RECORD_INPUT } = await import('./lib/fixtures.ts');
  const { createClient } = await import('../packages/dexero-fd/dist/index.js');
  const { default: createFetchClient } = await import('openapi-fetch');
  // Both clients take the same calls; typed loosely so one code path serves both.
  const client: { GET: (path: string, init: object) => Promise<unknown>; POST: (path: string, init: object) => Promise<unknown> } =
    who === 'portico'
      ? (createClient({ fetch: cannedFetch(), auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value' } }) as never)
      : (createFetchClient<import('../packages/dexero-fd/dist/index.js').paths>({
          baseUrl: DEXERO_BASE,
          fetch: cannedFetch(),
          headers: { Authorization: `Bearer ${ACCESS_TOKEN}` },
        }) as never);
  const call =
    op === 'get'
      ? () => client.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } })
      : () => client.POST('/records.{format}', { params: { path: { format: 'json' } }, body: RECORD_INPUT });
  const n = Number(calls);
  const start = performance.now();
  for (let i = 0; i < n; i++) await call();
  console.log(`${who} ${op}: ${n} calls, ${(((performance.now() - start) * 1000) / n).toFixed(1)} µs per call (under the profiler)`);
} else if (who === '--analyze') {
  analyze(op);
} else {
  const dir = join(WORK, 'profiles', `${who}-${op}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const child = spawnSync(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', import.meta.filename, who, op, calls],
    {
      env: { ...process.env, PORTICO_PROFILE_CHILD: '1' },
      stdio: 'inherit',
    },
  );
  if (child.status !== 0) process.exit(child.status ?? 1);
  analyze(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!));
}

function analyze(file: string): void {
  const { profile, self } = readSelfTimes(file);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (!t) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(`file://${ROOT}/`, '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '');
    const key = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const pkg = where.startsWith('packages/')
      ? where.split('/').slice(0, 2).join('/')
      : where.startsWith('node:')
        ? 'node internals'
        : where === ''
          ? `(${functionName})`
          : where.split('/')[0]!;
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  console.log(`\nself time by package:\n${top(byPkg, 12)}\n\ntop functions by self time:\n${top(byFn, 30)}\n\nprofile: ${file}`);
}
