// A scratch copy of the tree in the OS temp dir (PORTICO_ROOT) where a test
// scaffolds, generates and builds provider packages, and type-checks a
// consumer of one: shared by the tests that walk a spec to a package.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../lib/specs.ts';

const execFileAsync = promisify(execFile);
// Every step is bounded: a hung compiler or bundler fails the test instead of holding it.
export const run = (cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) =>
  execFileAsync(cmd, args, { timeout: 90_000, maxBuffer: 64 * 2 ** 20, ...options });
export const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
export const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };

/** A new scratch tree with what `pnpm new-provider` reads and writes; the caller removes it. */
export function scratchTree(prefix: string): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  for (const f of ['package.json', 'redocly.yaml', '.size-limit.js', 'LICENSE', 'tsconfig.base.json', 'packages/runtime/package.json']) {
    mkdirSync(join(tmp, f, '..'), { recursive: true });
    copyFileSync(join(ROOT, f), join(tmp, f));
  }
  // The workspace's tools (size-limit and its plugins), as `pnpm install` would have them.
  symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'));
  // What the tree's redocly.yaml names: the Portico lint plugin and the imported rule set.
  symlinkSync(join(ROOT, 'tools'), join(tmp, 'tools'));
  return tmp;
}

/** Writes `spec` as the tree's specs/<slug>/openapi.yaml; returns its path. */
export function writeSpec(tree: string, slug: string, spec: string): string {
  const file = join(tree, 'specs', slug, 'openapi.yaml');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, spec);
  return file;
}

/** Runs `pnpm new-provider <slug>` in the tree on the spec written there; returns packages/<slug>, linked to the workspace's runtime and auth. */
export async function scaffold(tree: string, slug: string): Promise<string> {
  await run(bin('tsx'), [join(ROOT, 'tools/new-provider.ts'), slug, '--skip-install'], { cwd: ROOT, env: { ...env, PORTICO_ROOT: tree } });
  return linkWorkspace(tree, slug);
}

/** What `pnpm install` would link into packages/<slug>: the workspace's runtime and auth. Returns packages/<slug>. */
export function linkWorkspace(tree: string, slug: string): string {
  const pkg = join(tree, 'packages', slug);
  mkdirSync(join(pkg, 'node_modules', '@portico'), { recursive: true });
  for (const dep of ['auth', 'runtime']) symlinkSync(join(ROOT, 'packages', dep), join(pkg, 'node_modules', '@portico', dep));
  return pkg;
}

/** `pnpm new-provider` in the tree with these arguments (`--skip-install` added): its exit code and output, whether it fails or not. */
export async function newProvider(
  tree: string,
  args: string[],
  timeout = 300_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(bin('tsx'), [join(ROOT, 'tools/new-provider.ts'), ...args, '--skip-install'], {
    cwd: ROOT,
    env: { ...env, PORTICO_ROOT: tree },
    timeout,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number | string; stdout: string; stderr: string; message: string }) => ({
      // A string code is a spawn error or the timeout's kill: never 0.
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : e.message}`,
    }),
  );
}

/** tsc's errors on `source`, a consumer of the built package at `pkg` (it imports './dist/index.js'); '' when it compiles. */
export async function typecheckConsumer(pkg: string, source: string): Promise<string> {
  writeFileSync(join(pkg, 'consumer.ts'), source);
  writeFileSync(
    join(pkg, 'tsconfig.consumer.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      files: ['consumer.ts'],
    }),
  );
  // GitHub's 13 MB of types take minutes on a loaded machine.
  return run(bin('tsc'), ['-p', join(pkg, 'tsconfig.consumer.json')], { cwd: pkg, timeout: 600_000 }).then(
    () => '',
    // Never '' on a failure: a compiler killed by the timeout prints nothing.
    (e: { stdout: string; stderr: string; message: string }) => e.stdout || e.stderr || e.message,
  );
}
