// The CI check: on this repository against its base, then in a scratch git
// repository where a released provider's spec changes with and without a
// matching changeset.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/specs.ts';

const run = promisify(execFile);
const tsx = join(ROOT, 'node_modules/.bin/tsx');
const script = join(ROOT, 'tools/release/spec-semver.ts');
const fixtures = join(ROOT, 'tools/release/test/fixtures');
let checks = 0;

async function check(root?: string): Promise<{ code: number; out: string }> {
  checks++;
  const env: NodeJS.ProcessEnv = { ...process.env, ...(root ? { PORTICO_ROOT: root } : {}) };
  delete env.PORTICO_RELEASE_BASE;
  delete env.GITHUB_BASE_REF;
  try {
    const r = await run(tsx, [script, '--check'], { env, cwd: root ?? ROOT, timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, out: `${e.stdout}${e.stderr}` };
  }
}

describe('spec-semver check on this repository', () => {
  it('passes: every spec change since the base has a changeset for its package', async () => {
    const { code, out } = await check();
    console.log(out.trim());
    expect(code, out).toBe(0);
    expect(out).toMatch(/spec-semver: \d+ providers checked/);
  });
});

describe('spec-semver check on a released provider', () => {
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      stdio: 'pipe',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.test',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.test',
      },
    });
  const spec = (name: string) => writeFileSync(join(repo, 'specs/fixture/openapi.yaml'), readFileSync(join(fixtures, `${name}.yaml`)));
  const changeset = (bump: string | undefined) => {
    rmSync(join(repo, '.changeset/change.md'), { force: true });
    if (bump) writeFileSync(join(repo, '.changeset/change.md'), `---\n"@portico/fixture": ${bump}\n---\n\nThe change.\n`);
  };

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'portico-semver-'));
    mkdirSync(join(repo, 'specs/fixture'), { recursive: true });
    mkdirSync(join(repo, 'packages/fixture'), { recursive: true });
    mkdirSync(join(repo, '.changeset'));
    writeFileSync(join(repo, '.changeset/config.json'), JSON.stringify({ baseBranch: 'main' }));
    writeFileSync(join(repo, 'packages/fixture/package.json'), JSON.stringify({ name: '@portico/fixture', version: '1.2.0' }));
    spec('base');
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'release 1.2.0');
    git('tag', '@portico/fixture@1.2.0');
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('fails without a changeset, naming the provider, the change and the bump', async () => {
    spec('required-parameter');
    changeset(undefined);
    const { code, out } = await check(repo);
    expect(code).toBe(1);
    expect(out).toContain(
      '@portico/fixture: specs/fixture/openapi.yaml changed since last release @portico/fixture@1.2.0 and needs a major release, but there is no changeset for @portico/fixture.',
    );
    expect(out).toContain('major: GET /accounts: query parameter region — added, required');
  });

  it('fails when the changeset asks for less than the change needs', async () => {
    spec('required-parameter');
    changeset('minor');
    const { code, out } = await check(repo);
    expect(code).toBe(1);
    expect(out).toContain('needs a major release, but changesets: minor only give minor.');
  });

  it('passes with a major changeset, and with a patch one for a description change', async () => {
    spec('required-parameter');
    changeset('major');
    expect((await check(repo)).code).toBe(0);
    spec('description-only');
    changeset('patch');
    expect((await check(repo)).code).toBe(0);
  });

  it('counts a version bump already applied by `changeset version`', async () => {
    spec('optional-parameter');
    changeset(undefined);
    const manifest = join(repo, 'packages/fixture/package.json');
    writeFileSync(manifest, JSON.stringify({ name: '@portico/fixture', version: '1.3.0' }));
    const { code, out } = await check(repo);
    writeFileSync(manifest, JSON.stringify({ name: '@portico/fixture', version: '1.2.0' }));
    expect(code, out).toBe(0);
    expect(out).toContain('version 1.2.0 → 1.3.0');
  });

  it('a spec change needs the same release of @portico/mock, which serves the spec as it is, where the repository has it', async () => {
    const mock = join(repo, 'packages/mock');
    mkdirSync(mock);
    writeFileSync(join(mock, 'package.json'), JSON.stringify({ name: '@portico/mock', version: '2.0.0' }));
    spec('base');
    changeset(undefined);
    git('add', '-A');
    git('commit', '-q', '-m', 'mock 2.0.0');
    git('tag', '@portico/mock@2.0.0');
    spec('required-parameter');
    changeset('major');
    const alone = await check(repo);
    expect(alone.code).toBe(1);
    expect(alone.out).toContain(
      "@portico/mock (it serves @portico/fixture's spec as it is): specs/fixture/openapi.yaml changed since last release @portico/mock@2.0.0 and needs a major release, but there is no changeset for @portico/mock.",
    );
    expect(alone.out).not.toContain('there is no changeset for @portico/fixture');
    writeFileSync(join(repo, '.changeset/change.md'), '---\n"@portico/fixture": major\n"@portico/mock": minor\n---\n\nThe change.\n');
    expect((await check(repo)).out).toContain('needs a major release, but changesets: minor only give minor.');
    writeFileSync(join(repo, '.changeset/change.md'), '---\n"@portico/fixture": major\n"@portico/mock": major\n---\n\nThe change.\n');
    expect((await check(repo)).code).toBe(0);
    rmSync(mock, { recursive: true });
    git('tag', '-d', '@portico/mock@2.0.0');
    spec('base');
    changeset(undefined);
    git('add', '-A');
    git('commit', '-q', '-m', 'no mock');
  });

  it('compares against HEAD~1 when nothing was released, and any changeset covers a first release', async () => {
    git('tag', '-d', '@portico/fixture@1.2.0');
    writeFileSync(join(repo, 'packages/fixture/package.json'), JSON.stringify({ name: '@portico/fixture', version: '0.0.0' }));
    spec('base');
    changeset(undefined);
    git('add', '-A');
    git('commit', '-q', '-m', 'unreleased');
    spec('removed-endpoint');
    git('add', '-A');
    git('commit', '-q', '-m', 'remove an endpoint');
    const without = await check(repo);
    expect(without.code).toBe(1);
    expect(without.out).toMatch(
      /changed since HEAD~1 \([0-9a-f]{8}\) and needs a changeset \(first release, any bump\), but there is no changeset/,
    );
    changeset('minor');
    expect((await check(repo)).code).toBe(0);
  });
});

afterAll(() => console.log(`release: spec-semver check run ${checks} times`));
