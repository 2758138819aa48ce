// Classifies each provider's spec change against a base git ref, and with
// --check fails when the pending changesets (or a version bump already
// applied) ask for less than the change needs.
//   tsx tools/release/spec-semver.ts [--check] [--base <ref>]
//
// The base, per provider: --base (or PORTICO_RELEASE_BASE); else the
// package's last release tag, since pending changesets describe everything
// after it; else the merge base with the pull request's target or the
// changesets base branch; else HEAD~1 (CI on main, where the last commit is
// the change); else, in a repository whose first commit is HEAD, nothing, and
// every spec counts as new. A shallow clone is refused rather than guessed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { type Json, listProviders, packageName, ROOT } from '../lib/specs.ts';
import { type Bump, type Change, diffSpecs, highest, rank } from './spec-diff.ts';

export interface Base {
  ref?: string;
  label: string;
  /** The package has a release tag, so users have a version to break. */
  tagged: boolean;
}

/** What a package's pending changesets and any version bump since its base give. */
interface Release {
  pkg: string;
  base: Base;
  given?: Bump;
  givenBy: string;
  firstRelease: boolean;
}

export interface ProviderResult extends Release {
  slug: string;
  changes: Change[];
  needed?: Bump;
  /** @portico/mock embeds every spec: what its changesets give, where the repository has it. */
  mock?: Release & { ok: boolean };
  ok: boolean;
}

// The package that serves every spec as it is (its operations typed by id): a spec change changes what its users get too.
const MOCK = { dir: 'mock', pkg: '@portico/mock' };

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const commit = (ref: string) => git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
const short = (sha: string) => sha.slice(0, 8);

function parseVersion(v: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? m.slice(1).map(Number) : undefined;
}

/** The bump that takes `from` to `to`, if `to` is higher. */
export function bumpBetween(from: string | undefined, to: string | undefined): Bump | undefined {
  const a = from ? parseVersion(from) : undefined;
  const b = to ? parseVersion(to) : undefined;
  if (!a || !b) return undefined;
  if (b[0]! !== a[0]!) return b[0]! > a[0]! ? 'major' : undefined;
  if (b[1]! !== a[1]!) return b[1]! > a[1]! ? 'minor' : undefined;
  return b[2]! > a[2]! ? 'patch' : undefined;
}

function lastReleaseTag(pkg: string): string | undefined {
  const tags = (git(['tag', '--list', `${pkg}@*`, '--merged', 'HEAD']) ?? '').split('\n').filter(Boolean);
  const versioned = tags.map((t) => ({ t, v: parseVersion(t.slice(pkg.length + 1)) })).filter((x) => x.v);
  versioned.sort((x, y) => y.v![0]! - x.v![0]! || y.v![1]! - x.v![1]! || y.v![2]! - x.v![2]!);
  return versioned[0]?.t;
}

export function resolveBase(pkg: string, explicit?: string): Base {
  if (explicit) {
    const sha = commit(explicit);
    if (!sha) throw new Error(`base ref ${explicit} does not exist`);
    return { ref: sha, label: explicit, tagged: lastReleaseTag(pkg) !== undefined };
  }
  const tag = lastReleaseTag(pkg);
  if (tag) return { ref: commit(tag), label: `last release ${tag}`, tagged: true };
  const head = commit('HEAD');
  const config = JSON.parse(readFileSync(join(ROOT, '.changeset/config.json'), 'utf8'));
  const targets = [process.env.GITHUB_BASE_REF, config.baseBranch].filter(Boolean).flatMap((b) => [`origin/${b}`, b as string]);
  for (const target of targets) {
    if (!commit(target)) continue;
    const mergeBase = git(['merge-base', 'HEAD', target]);
    if (mergeBase && mergeBase !== head) return { ref: mergeBase, label: `merge base with ${target} (${short(mergeBase)})`, tagged: false };
  }
  const parent = commit('HEAD~1');
  if (parent) return { ref: parent, label: `HEAD~1 (${short(parent)})`, tagged: false };
  // A shallow clone hides the history the answer depends on; guessing would pass or fail for the wrong reason.
  if (git(['rev-parse', '--is-shallow-repository']) === 'true') {
    throw new Error(
      'this is a shallow clone without release tags: run `git fetch --unshallow --tags` (CI: fetch-depth: 0) so the spec check can find its base',
    );
  }
  return { label: 'no earlier commit', tagged: false };
}

function atRef(ref: string | undefined, path: string): string | undefined {
  return ref ? git(['show', `${ref}:${path}`]) : undefined;
}

/** The highest bump each package's pending changesets ask for. */
export function pendingBumps(): Map<string, Bump> {
  const dir = join(ROOT, '.changeset');
  const out = new Map<string, Bump>();
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    if (!file.endsWith('.md') || file === 'README.md') continue;
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(readFileSync(join(dir, file), 'utf8'))?.[1];
    const releases: Json = (front && parse(front)) || {};
    for (const [pkg, bump] of Object.entries<string>(releases)) {
      if ((bump === 'major' || bump === 'minor' || bump === 'patch') && rank(bump) > rank(out.get(pkg))) out.set(pkg, bump);
    }
  }
  return out;
}

function releaseOf(pkg: string, dir: string, pending: Map<string, Bump>, explicitBase?: string): Release {
  const base = resolveBase(pkg, explicitBase);
  const baseManifest = atRef(base.ref, `packages/${dir}/package.json`);
  const baseVersion: string | undefined = baseManifest ? JSON.parse(baseManifest).version : undefined;
  const version: string = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')).version;
  const applied = bumpBetween(baseVersion, version);
  const changeset = pending.get(pkg);
  const given = rank(applied) > rank(changeset) ? applied : changeset;
  const givenBy =
    [changeset && `changesets: ${changeset}`, applied && `version ${baseVersion} → ${version}`].filter(Boolean).join(', ') ||
    'no changeset';
  // Before a package's first release nobody can be broken: any changeset will do.
  const firstRelease = !base.tagged && (baseVersion === undefined || baseVersion === '0.0.0');
  return { pkg, base, given, givenBy, firstRelease };
}

const covers = (release: Release, needed: Bump | undefined) =>
  needed === undefined || (release.firstRelease ? release.given !== undefined : rank(release.given) >= rank(needed));

export function checkProvider(slug: string, pending: Map<string, Bump>, explicitBase?: string): ProviderResult {
  const release = releaseOf(packageName(slug), slug, pending, explicitBase);
  const before = atRef(release.base.ref, `specs/${slug}/openapi.yaml`);
  const after = readFileSync(join(ROOT, 'specs', slug, 'openapi.yaml'), 'utf8');
  const changes = before === after ? [] : diffSpecs(before === undefined ? undefined : parse(before), parse(after));
  const needed = highest(changes);
  const served =
    needed === undefined || !existsSync(join(ROOT, 'packages', MOCK.dir, 'package.json'))
      ? undefined
      : releaseOf(MOCK.pkg, MOCK.dir, pending, explicitBase);
  const mock = served && { ...served, ok: covers(served, needed) };
  return { slug, ...release, changes, needed, ...(mock ? { mock } : {}), ok: covers(release, needed) && mock?.ok !== false };
}

/** Distinct changes, the ones that decide the bump first. */
function summarize(changes: Change[], limit: number): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of [...changes].sort((a, b) => rank(b.bump) - rank(a.bump))) {
    const line = `${c.bump}: ${c.where} — ${c.what}`;
    if (!seen.has(line)) seen.add(line) && lines.push(line);
  }
  return lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines;
}

export function failureMessage(r: ProviderResult): string {
  const spec = `specs/${r.slug}/openapi.yaml`;
  const short = [r, r.mock].filter((release): release is Release => release !== undefined && !covers(release, r.needed));
  const lines: string[] = [];
  for (const release of short) {
    const has = release.given === undefined ? `there is no changeset for ${release.pkg}` : `${release.givenBy} only give ${release.given}`;
    const bump = release.firstRelease ? 'a changeset (first release, any bump)' : `a ${r.needed} release`;
    const why = release === r ? '' : ` (it serves ${r.pkg}'s spec as it is)`;
    lines.push(`${release.pkg}${why}: ${spec} changed since ${release.base.label} and needs ${bump}, but ${has}.`);
  }
  return [
    ...lines,
    ...summarize(
      r.changes.filter((c) => r.firstRelease || c.bump === r.needed),
      10,
    ).map((l) => `    ${l}`),
    `  Fix: \`pnpm changeset\`, select ${short.map((x) => x.pkg).join(' and ')}, choose ${r.firstRelease ? 'its bump' : r.needed} and describe the change for its changelog.`,
  ].join('\n');
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const i = args.indexOf('--base');
  const explicit = i >= 0 ? args[i + 1] : process.env.PORTICO_RELEASE_BASE || undefined;
  const pending = pendingBumps();
  let results: ProviderResult[];
  try {
    results = listProviders().map((slug) => checkProvider(slug, pending, explicit));
  } catch (error) {
    console.error(`spec-semver: ${(error as Error).message}`);
    process.exitCode = 2;
    return;
  }
  for (const r of results) {
    const verdict = r.needed ? `${r.needed}${r.firstRelease ? ' (unreleased: any changeset will do)' : ''}` : 'no change';
    console.log(
      `${r.ok ? '✓' : '✗'} ${r.pkg} vs ${r.base.label}: ${verdict}; ${r.givenBy}${r.mock ? `; ${r.mock.pkg}: ${r.mock.givenBy}` : ''}`,
    );
    for (const line of summarize(r.changes, 5)) console.log(`    ${line}`);
  }
  const failed = results.filter((r) => !r.ok);
  if (check && failed.length) {
    console.error(`\nspec-semver: ${failed.length} provider(s) need a changeset:\n`);
    for (const r of failed) console.error(`${failureMessage(r)}\n`);
    process.exitCode = 1;
  } else if (check) console.log(`spec-semver: ${results.length} providers checked, every spec change has a matching changeset`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
