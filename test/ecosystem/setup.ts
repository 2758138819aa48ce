// Global setup of the ecosystem group, run once before its files: fetch the
// pinned runtimes (tools/runtimes.mjs; a failed download fails the run with
// one line), then install the packages as a user does, once, into a project
// every runtime's test then runs in. The published packages are packed with
// `pnpm pack` (which turns workspace: ranges into versions), their
// third-party dependencies are packed from this workspace's installed copies,
// and `npm install --offline` installs the tarballs: no registry is involved.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureRuntimes } from '../../tools/runtimes.mjs';
import { PUBLISHED, packageDir, plainCopy, thirdPartyDependencies } from '../install/packing.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The installed consumer project: node_modules, package.json and the scenario's entry points. */
    consumer: string;
    /** Binary of each pinned runtime, by name (tools/runtimes.mjs). */
    runtimes: Record<string, string>;
  }
}

/** The environment of every child: none of the caller's npm or pnpm settings, nothing written outside `work`. */
export function childEnv(work: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|VITEST|NODE_OPTIONS$|INIT_CWD$)/i.test(k)));
  return {
    ...clean,
    npm_config_userconfig: join(work, 'npmrc'),
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

/** Runs a command without blocking this process (which may be serving emulators); rejects with its output when it fails. */
export function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(`${command} ${args.join(' ').slice(0, 300)} (in ${cwd}) failed: ${error.message}\n${stdout}${stderr}`.slice(0, 8000)),
        );
      else resolve(stdout);
    });
  });
}

async function packAll(into: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  for (const name of PUBLISHED) {
    if (!existsSync(join(packageDir(name), 'dist/index.js')))
      throw new Error(`${name} is not built: run \`npm test\`, or \`npx turbo run build\` before this group`);
    await run(packageDir(name), 'pnpm', ['pack', '--pack-destination', into], env);
  }
  const copies = join(into, 'copies');
  mkdirSync(copies);
  for (const [id, dir] of thirdPartyDependencies())
    await run(into, 'npm', ['pack', plainCopy(id, dir, copies), '--ignore-scripts', '--pack-destination', into], env);
  return readdirSync(into).filter((file) => file.endsWith('.tgz'));
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const runtimes = ensureRuntimes();
  const work = mkdtempSync(join(tmpdir(), 'portico-ecosystem-'));
  const env = childEnv(work);
  writeFileSync(join(work, 'npmrc'), '');
  const tarballs = join(work, 'tarballs');
  const consumer = join(work, 'consumer');
  mkdirSync(tarballs);
  mkdirSync(consumer);
  const packed = await packAll(tarballs, env);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'portico-ecosystem-consumer', private: true, type: 'module' }, null, 2),
  );
  await run(consumer, 'npm', ['install', '--offline', '--ignore-scripts', ...packed.map((file) => join(tarballs, file))], env);
  for (const file of ['scenario.mjs', 'main.mjs', 'worker.mjs'])
    copyFileSync(join(import.meta.dirname, 'consumer', file), join(consumer, file));
  console.log(`ecosystem: installed ${packed.length} packed packages into ${consumer} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('consumer', consumer);
  project.provide('runtimes', runtimes);
  return () => rmSync(work, { recursive: true, force: true });
}
