// Before/after for a change to @portico/runtime: the call-overhead (1) and
// loopback (2) workloads for two builds of packages/runtime/dist, each in its
// own processes, alternating. Used for the runtime change in BENCHMARKS.md.
//   cp -r packages/runtime/dist /tmp/before   (before the change; rebuild after it)
//   node --import tsx bench/compare-runtime.ts /tmp/before packages/runtime/dist [rounds]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { median, ROOT, WORK } from './lib/results.ts';

const [a, b, roundsArg] = process.argv.slice(2);
if (process.env.PORTICO_COMPARE_CHILD) {
  const { measure } = await import('mitata');
  const { spec } = await import('../packages/dexero-fd/dist/generated/spec.js');
  const { cannedFetch, SEARCH_QUERY, RECORD_INPUT } = await import('./lib/fixtures.ts');
  const { defineClient } = await import(join(process.env.PORTICO_COMPARE_CHILD, 'index.js'));
  // The XML codec of the same build: Dexero FD's spec declares XML representations.
  const { xml } = await import(join(process.env.PORTICO_COMPARE_CHILD, 'xml.js'));
  const { createAuthenticator } = await import('../packages/auth/dist/index.js');
  const out: Record<string, number> = {};
  const stub = defineClient(
    { ...spec, xml },
    createAuthenticator,
  )({ fetch: cannedFetch(), auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value' } });
  const get = () => stub.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
  const post = () => stub.POST('/records.{format}', { params: { path: { format: 'json' } }, body: RECORD_INPUT });
  for (const [name, f] of [
    ['stub GET µs', get],
    ['stub POST µs', post],
  ] as const) {
    for (let i = 0; i < 3000; i++) await f();
    out[name] =
      (await measure(f, { batch_threshold: Number.MAX_SAFE_INTEGER, batch_samples: 256, min_samples: 8, min_cpu_time: 500e6 })).avg / 1000;
  }
  const url = process.env.PORTICO_COMPARE_SERVER!;
  const live = defineClient(
    { ...spec, xml },
    createAuthenticator,
  )({
    baseUrl: `${url}/services/v6/rest`,
    auth: { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${url}/oauth/token.action` },
  });
  const call = () => live.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
  const load = async (total: number) => {
    let next = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let i = next++; i < total; i = next++) await call();
      }),
    );
    const c = process.cpuUsage(c0);
    return { rps: (total / (performance.now() - t0)) * 1000, cpu: (c.user + c.system) / total };
  };
  await load(2000);
  const l = await load(10_000);
  out['loopback req/s'] = l.rps;
  out['loopback client CPU µs/req'] = l.cpu;
  console.log(JSON.stringify(out));
} else {
  if (!a || !b) throw new Error('usage: bench/compare-runtime.ts <dist A> <dist B> [rounds]');
  const { startLoopback } = await import('./lib/spawn-server.ts');
  const server = await startLoopback(5);
  // Each build in a folder whose node_modules resolves like packages/runtime's own.
  const stage = (dir: string, name: string) => {
    const to = join(WORK, 'compare', name);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    cpSync(resolve(dir), join(to, 'dist'), { recursive: true });
    if (!existsSync(join(to, 'node_modules'))) symlinkSync(join(ROOT, 'packages', 'runtime', 'node_modules'), join(to, 'node_modules'));
    return join(to, 'dist');
  };
  const builds = { A: stage(a, 'A'), B: stage(b, 'B') };
  const runs: Record<string, Record<string, number[]>> = { A: {}, B: {} };
  try {
    for (let r = 0; r < Number(roundsArg ?? 3); r++) {
      for (const k of (r % 2 ? ['B', 'A'] : ['A', 'B']) as ('A' | 'B')[]) {
        const c = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename], {
          env: { ...process.env, PORTICO_COMPARE_CHILD: builds[k], PORTICO_COMPARE_SERVER: server.url },
          encoding: 'utf8',
        });
        if (c.status !== 0) throw new Error(c.stderr);
        for (const [m, v] of Object.entries(JSON.parse(c.stdout.trim().split('\n').at(-1)!) as Record<string, number>))
          (runs[k]![m] ??= []).push(v);
      }
    }
  } finally {
    server.close();
  }
  console.log(`| measure | A: ${basename(resolve(a))} | B: ${basename(resolve(b))} | B / A |\n| --- | --- | --- | --- |`);
  for (const m of Object.keys(runs.A!)) {
    const va = median(runs.A![m]!);
    const vb = median(runs.B![m]!);
    console.log(`| ${m} | ${va.toFixed(1)} | ${vb.toFixed(1)} | ${(vb / va).toFixed(2)} |`);
  }
}
