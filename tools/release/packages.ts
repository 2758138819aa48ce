// Quality gates every published package passes before a release: its npm
// metadata, publint on what `pnpm pack` would publish, and
// @arethetypeswrong/cli with the ESM-only profile (the packages are ESM-only;
// CommonJS code loads them with `await import()` or, on Node >= 20.19,
// `require()`).
//   tsx tools/release/packages.ts
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { type Json, ROOT } from '../lib/specs.ts';

const run = promisify(execFile);

export interface PackageInfo {
  dir: string;
  /** Directory name under packages/. */
  folder: string;
  manifest: Json;
}

export function publishedPackages(): PackageInfo[] {
  return readdirSync(join(ROOT, 'packages'))
    .filter((folder) => existsSync(join(ROOT, 'packages', folder, 'package.json')))
    .map((folder) => ({
      folder,
      dir: join(ROOT, 'packages', folder),
      manifest: JSON.parse(readFileSync(join(ROOT, 'packages', folder, 'package.json'), 'utf8')),
    }))
    .filter((p) => !p.manifest.private)
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

const nonEmptyFile = (path: string) => existsSync(path) && statSync(path).size > 0;

/** What a user meets on the registry page and at install: every field must be there and right. */
export function metadataProblems(dir: string, folder: string): string[] {
  const m: Json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const problems: string[] = [];
  const need = (ok: unknown, problem: string) => {
    if (!ok) problems.push(problem);
  };
  need(nonEmptyFile(join(dir, 'README.md')), 'README.md is missing or empty');
  need(nonEmptyFile(join(dir, 'LICENSE')), 'LICENSE is missing or empty');
  need(typeof m.license === 'string' && m.license.length > 0, 'license is not set');
  need(
    m.repository?.type === 'git' && /^git\+https:\/\//.test(m.repository?.url ?? ''),
    'repository must be { type: "git", url: "git+https://…" }',
  );
  need(m.repository?.directory === `packages/${folder}`, `repository.directory must be packages/${folder}`);
  need(
    typeof m.homepage === 'string' && m.homepage.startsWith('https://') && m.homepage.includes(`packages/${folder}`),
    `homepage must be an https URL of packages/${folder}`,
  );
  need(
    Array.isArray(m.keywords) && m.keywords.length > 0 && m.keywords.every((k: unknown) => typeof k === 'string' && k),
    'keywords must be a non-empty list',
  );
  need(typeof m.engines?.node === 'string', 'engines.node is not set');
  need(m.publishConfig?.access === 'public', 'publishConfig.access must be "public" (scoped packages are private by default)');
  need(m.publishConfig?.provenance === true, 'publishConfig.provenance must be true');
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) need(m.files?.includes(file), `files must include ${file}`);
  return problems;
}

export async function publintProblems(dir: string, pack: 'pnpm' | 'npm' = 'pnpm'): Promise<string[]> {
  const { messages, pkg } = await publint({ pkgDir: dir, pack, strict: true, level: 'warning' });
  return messages.map((m) => `publint ${m.type}: ${formatMessage(m, pkg, { color: false })}`);
}

const IGNORED_BY_PROFILE = new Set(['node10', 'node16-cjs']);

/** @arethetypeswrong/cli on the packed package: its problems under the ESM-only profile, and no types at all. */
export async function attwProblems(dir: string): Promise<string[]> {
  const attw = join(ROOT, 'node_modules/.bin/attw');
  let out: string;
  try {
    out = (
      await run(attw, ['--pack', '.', '--profile', 'esm-only', '--format', 'json'], { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 })
    ).stdout;
  } catch (e: any) {
    if (!e.stdout) throw e;
    out = e.stdout;
  }
  const { analysis } = JSON.parse(out);
  // attw passes a package that ships no types at all; a typed client must not.
  if (analysis.types === false) return ['attw: the package ships no types'];
  const problems: Json[] = Object.values<Json[]>(analysis.problems ?? {}).flat();
  return problems
    .filter((p) => !IGNORED_BY_PROFILE.has(p.resolutionKind))
    .map(
      (p) =>
        `attw ${p.kind}${p.entrypoint ? ` at ${p.entrypoint}` : ''}${p.resolutionKind ? ` (${p.resolutionKind})` : ''}: https://github.com/arethetypeswrong/arethetypeswrong.github.io/blob/main/docs/problems/${p.kind}.md`,
    );
}

async function main() {
  let failed = 0;
  for (const { dir, folder, manifest } of publishedPackages()) {
    const problems = [...metadataProblems(dir, folder), ...(await publintProblems(dir)), ...(await attwProblems(dir))];
    console.log(`${problems.length ? '✗' : '✓'} ${manifest.name}`);
    for (const p of problems) console.log(`    ${p.replace(/\n/g, '\n    ')}`);
    if (problems.length) failed++;
  }
  process.exitCode = failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
