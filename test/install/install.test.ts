// Installed as users install it. In a temporary copy of this working tree
// (never the real one): start Verdaccio on 127.0.0.1, run the real release
// commands against it (`pnpm version-packages`, `pnpm release`: version,
// build, publish every package), then `npm install` the five provider
// packages into a fresh project, type-check a consumer with `tsc --strict`
// under nodenext and bundler resolution, and run it against the loopback
// emulators of @portico/testing. For each provider, a fresh project installs
// it with @portico/mock, vitest and msw from the same registry and runs a
// vitest suite of its own (test/install/consumer/mock-*.spec.ts) against
// startMock and against MSW; no provider's installed tree holds
// @portico/mock. Then a second round: one spec changes, the
// spec-semver check demands a changeset (for the provider and the mock that
// serves its spec), the changesets are added, the release
// runs again and the consumer upgrades to the new version and its changelog.
//
// Provenance cannot be generated for a local registry, so this test alone
// turns it off (pnpm_config_provenance / npm_config_provenance = false); the
// packages keep `publishConfig.provenance: true` for the real registry.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  type LoopbackServer,
  startDapi,
  startDexeroFd,
  startExpertFile,
  startFdx,
  startFinexer,
} from '../../packages/testing/src/index.ts';
import { loadSpec, operations, ROOT } from '../../tools/lib/specs.ts';
import { PROVIDERS, PUBLISHED, plainCopy, thirdPartyDependencies } from './packing.ts';
import { type Registry, startVerdaccio } from './verdaccio.ts';

const started = Date.now();
const MOCK = '@portico/mock';

let work: string;
let repo: string;
let consumer: string;
let registry: Registry | undefined;
let env: NodeJS.ProcessEnv;
let seeded: string[] = [];

interface Ran {
  code: number;
  out: string;
}

/** Runs a command without blocking this process, which serves the emulators. */
function sh(cwd: string, command: string, args: string[], timeout = 300_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function ok(cwd: string, command: string, ...args: string[]): Promise<string> {
  const { code, out } = await sh(cwd, command, args);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${out.slice(-6000)}`);
  return out;
}

const tsc = (project: string) => sh(consumer, process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--strict', '-p', project]);
const git = (...args: string[]) => ok(repo, 'git', ...args);
const version = (dir: string, name: string) =>
  JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version as string;
const repoVersion = (name: string) =>
  JSON.parse(readFileSync(join(repo, 'packages', name.split('/')[1]!, 'package.json'), 'utf8')).version as string;

async function latest(name: string): Promise<string | undefined> {
  const response = await fetch(`${registry!.url}${name.replace('/', '%2f')}`, { signal: AbortSignal.timeout(10_000) });
  return response.ok ? ((await response.json()) as any)['dist-tags']?.latest : undefined;
}

/**
 * The child processes see only this test's registry and configuration, never
 * the caller's npm or pnpm settings, and no CI identity token: nothing they do
 * may leave 127.0.0.1.
 */
function isolatedEnv(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(npm_|pnpm_|PORTICO_|VITEST|ACTIONS_ID_TOKEN_|INIT_CWD$|NODE_OPTIONS$|GITHUB_BASE_REF$)/i.test(k),
    ),
  );
  return {
    ...clean,
    npm_config_userconfig: join(work, 'npmrc'),
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_registry: registry!.url,
    pnpm_config_registry: registry!.url,
    npm_config_provenance: 'false',
    pnpm_config_provenance: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    pnpm_config_update_notifier: 'false',
    REDOCLY_TELEMETRY: 'off',
    REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
    TURBO_TELEMETRY_DISABLED: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
    GIT_AUTHOR_NAME: 'Portico install test',
    GIT_AUTHOR_EMAIL: 'install-test@portico.invalid',
    GIT_COMMITTER_NAME: 'Portico install test',
    GIT_COMMITTER_EMAIL: 'install-test@portico.invalid',
  };
}

/** This working tree as git sees it (tracked and new files, nothing ignored), committed in a fresh repository. */
async function copyRepository() {
  const files = await new Promise<string[]>((resolve, reject) =>
    execFile('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, maxBuffer: 64 << 20 }, (e, out) =>
      e ? reject(e) : resolve(out.split('\0').filter(Boolean)),
    ),
  );
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    cpSync(join(ROOT, file), join(repo, file));
  }
  writeFileSync(join(repo, '.npmrc'), registry!.npmrc);
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, '.git/info/exclude'), '.npmrc\n');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'The working tree under test');
  await ok(repo, 'pnpm', 'install', '--frozen-lockfile', '--offline');
}

/** What a user installs beside the packages to test with @portico/mock (vitest, msw), seeded from this workspace's copies. */
const TOOLS = ['vitest', 'msw', '@types/node'];

/**
 * The registry has no uplink, so the third-party packages the published ones
 * depend on (openapi-fetch and what it needs, ajv for the mock) and the
 * tools a user installs beside them are published to it from this
 * workspace's installed copies, four at a time.
 */
async function seedDependencies(): Promise<string[]> {
  const seed = join(work, 'seed');
  mkdirSync(seed);
  writeFileSync(join(seed, '.npmrc'), registry!.npmrc);
  // The CLI is installed too (its file lock comes from proper-lockfile).
  const found = thirdPartyDependencies([...PUBLISHED, '@portico/cli', MOCK], TOOLS);
  // Versions of one name go one after another: two publishes of one package at once would race on its document.
  const byName = new Map<string, [string, string][]>();
  for (const [id, dir] of found) {
    const name = id.slice(0, id.lastIndexOf('@'));
    byName.set(name, [...(byName.get(name) ?? []), [id, dir]]);
  }
  const queue = [...byName.values()];
  const publishNext = async (): Promise<void> => {
    for (let versions = queue.shift(); versions; versions = queue.shift()) {
      for (const [id, dir] of versions) {
        const [packed] = JSON.parse(
          await ok(seed, 'npm', 'pack', plainCopy(id, dir, seed), '--ignore-scripts', '--json', '--pack-destination', seed),
        );
        await ok(seed, 'npm', 'publish', join(seed, packed.filename), '--ignore-scripts', '--tag', 'latest');
      }
    }
  };
  await Promise.all([publishNext(), publishNext(), publishNext(), publishNext()]);
  return [...found.keys()];
}

interface Emulators {
  config: unknown;
  /** Per package, the Authorization headers its provider's API endpoint received. */
  apiAuthorizations(): Record<string, (string | undefined)[]>;
  close(): Promise<void>;
}

async function startEmulators(): Promise<Emulators> {
  const redirectUri = 'https://app.example/callback';
  const [fd, ef, dapi, fx, fdx] = await Promise.all([
    startDexeroFd(),
    startExpertFile(),
    startDapi(),
    startFinexer({ redirectUris: [redirectUri] }),
    startFdx({ redirectUris: [redirectUri] }),
  ]);
  const link = dapi.connect();
  return {
    config: {
      dexeroFd: { apiBaseUrl: fd.apiBaseUrl, tokenUrl: fd.tokenUrl, clientId: fd.clientId, clientSecret: fd.clientSecret },
      expertfile: {
        apiBaseUrl: ef.apiBaseUrl,
        tokenUrl: ef.tokenUrl,
        clientId: ef.clientId,
        clientSecret: ef.clientSecret,
        organization: ef.organization,
      },
      dapi: {
        apiBaseUrl: dapi.apiBaseUrl,
        appSecret: dapi.appSecret,
        accessCode: link.accessCode,
        connectionID: link.connectionID,
        userSecret: link.userSecret,
      },
      finexer: {
        apiBaseUrl: fx.apiBaseUrl,
        authorizationUrl: fx.authorizationUrl,
        tokenUrl: fx.tokenUrl,
        clientId: fx.clientId,
        clientSecret: fx.clientSecret,
        redirectUri,
      },
      fdx: {
        apiBaseUrl: fdx.apiBaseUrl,
        authBaseUrl: fdx.authBaseUrl,
        clientId: fdx.clientId,
        clientSecret: fdx.clientSecret,
        redirectUri,
      },
    },
    apiAuthorizations: () => {
      const sent = (server: LoopbackServer, route: string) =>
        server.requests.filter((r) => `${r.method} ${r.path}` === route).map((r) => r.headers.authorization);
      return {
        '@portico/dexero-fd': sent(fd, 'GET /services/v6/rest/records.json'),
        '@portico/expertfile': sent(ef, `GET /v2/organization/${ef.organization}/expert`),
        '@portico/dapi': sent(dapi, 'POST /v2/data/identity/get'),
        '@portico/finexer': sent(fx, 'GET /customers'),
        '@portico/fdx': sent(fdx, 'GET /fdx/v4/customers/current'),
      };
    },
    close: async () => void (await Promise.all([fd, ef, dapi, fx, fdx].map((s) => s.close()))),
  };
}

function writeConsumer() {
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'portico-consumer', private: true, type: 'module' }, null, 2));
  writeFileSync(join(consumer, '.npmrc'), registry!.npmrc);
  for (const file of ['consumer.ts', 'main.mjs', 'modified-since.ts'])
    cpSync(join(ROOT, 'test/install/consumer', file), join(consumer, file));
  const base = { strict: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], skipLibCheck: false };
  const tsconfig = (name: string, options: object, files: string[]) =>
    writeFileSync(join(consumer, name), JSON.stringify({ compilerOptions: { ...base, ...options }, files }, null, 2));
  tsconfig('tsconfig.nodenext.json', { module: 'nodenext', moduleResolution: 'nodenext', outDir: 'dist' }, ['consumer.ts']);
  tsconfig('tsconfig.bundler.json', { module: 'esnext', moduleResolution: 'bundler', noEmit: true }, ['consumer.ts']);
  tsconfig('tsconfig.modified-since.json', { module: 'nodenext', moduleResolution: 'nodenext', noEmit: true }, ['modified-since.ts']);
}

/**
 * A fresh project of a user who tests their integration with `slug`: its
 * package.json, its suite (test/install/consumer/mock-<slug>.spec.ts and its
 * helper) and a strict tsconfig, as they would write them.
 */
function writeMockProject(slug: string): string {
  const dir = join(work, `mock-${slug}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `tests-with-${slug}`, private: true, type: 'module', scripts: { test: 'vitest run' } }, null, 2),
  );
  writeFileSync(join(dir, '.npmrc'), registry!.npmrc);
  const files = ['mock-fake.ts', `mock-${slug}.spec.ts`];
  for (const file of files) cpSync(join(ROOT, 'test/install/consumer', file), join(dir, file));
  const compilerOptions = {
    strict: true,
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: ['node'],
    module: 'nodenext',
    noEmit: true,
    skipLibCheck: true,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }, null, 2));
  return dir;
}

interface Tree {
  version?: string;
  dependencies?: Record<string, Tree>;
}

/** Every package name in an `npm ls --all --json` subtree. */
const namesIn = (tree: Tree | undefined): string[] =>
  Object.entries(tree?.dependencies ?? {}).flatMap(([name, sub]) => [name, ...namesIn(sub)]);

/** The spec change of the second round: an optional filter on listRecords, a minor change. */
function addModifiedSince() {
  const file = join(repo, 'specs/dexero-fd/openapi.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const op = ['paths', '/records.{format}', 'get'];
  const parameter = doc.createNode({
    name: 'modifiedSince',
    in: 'query',
    required: false,
    description: 'Only records modified at or after this time.',
    schema: { type: 'string', format: 'date-time' },
    example: '2026-01-01T00:00:00Z',
  });
  if (doc.hasIn([...op, 'parameters'])) (doc.getIn([...op, 'parameters']) as any).add(parameter);
  else doc.setIn([...op, 'parameters'], doc.createNode([parameter]));
  writeFileSync(file, doc.toString());
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'portico-install-'));
  repo = join(work, 'repo');
  consumer = join(work, 'consumer');
  mkdirSync(join(work, 'registry'));
  registry = await startVerdaccio(join(work, 'registry'));
  writeFileSync(join(work, 'npmrc'), registry.npmrc);
  env = isolatedEnv();
  [seeded] = await Promise.all([seedDependencies(), copyRepository()]);
  console.log(`install: Verdaccio at ${registry.url}, seeded with ${seeded.length} third-party packages`);
}, 300_000);

// Removing the built copy of the workspace (its node_modules included) took over 30 s on two busy cores.
afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`install: finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}, 120_000);

// A release builds the whole workspace; on two busy cores that can take minutes.
describe('install from a real registry', { timeout: 400_000 }, () => {
  it('pnpm version-packages versions every package from the pending changesets', async () => {
    await ok(repo, 'pnpm', 'version-packages');
    for (const name of PUBLISHED) expect(repoVersion(name), name).toBe('0.1.0');
    expect(readFileSync(join(repo, 'packages/fdx/CHANGELOG.md'), 'utf8')).toMatch(
      /## 0\.1\.0\n\n### Minor Changes\n\n- [0-9a-f]+: First release/,
    );
    await git('add', '-A');
    await git('commit', '-q', '-m', 'Version packages');
  });

  it('pnpm release builds and publishes every package to the registry', async () => {
    // Publishing anywhere but the loopback registry must not even be attempted.
    expect((await ok(repo, 'pnpm', 'config', 'get', 'registry')).trim()).toBe(registry!.url);
    expect((await ok(repo, 'npm', 'config', 'get', 'registry')).trim()).toBe(registry!.url);
    const out = await ok(repo, 'pnpm', 'release');
    for (const name of PUBLISHED) {
      expect(out).toContain(`New tag:  ${name}@0.1.0`);
      expect(await latest(name), name).toBe('0.1.0');
    }
    expect(out).toContain(`New tag:  ${MOCK}@${repoVersion(MOCK)}`);
    expect(await latest(MOCK)).toBe(repoVersion(MOCK));
  });

  it('npm install gets the five provider packages from the registry', async () => {
    writeConsumer();
    await ok(consumer, 'npm', 'install', ...PROVIDERS);
    for (const name of [...PUBLISHED]) {
      expect(version(consumer, name), name).toBe('0.1.0');
      expect(lstatSync(join(consumer, 'node_modules', name)).isSymbolicLink(), `${name} is a real install`).toBe(false);
    }
  });

  it('npm install @portico/cli gives a working portico command', async () => {
    await ok(consumer, 'npm', 'install', '@portico/cli');
    expect(version(consumer, '@portico/cli')).toBe('0.1.0');
    const providers = await ok(consumer, join(consumer, 'node_modules/.bin/portico'), 'providers');
    for (const name of PROVIDERS) expect(providers).toMatch(new RegExp(`^${name.split('/')[1]} `, 'm'));
    expect(await ok(consumer, join(consumer, 'node_modules/.bin/portico'), '--version')).toContain('0.1.0');
  });

  it("the size rule: no provider package's installed dependency tree holds @portico/mock (the CLI's does)", async () => {
    const tree: Tree = JSON.parse(await ok(consumer, 'npm', 'ls', '--all', '--json'));
    for (const name of PROVIDERS) {
      expect(tree.dependencies?.[name], name).toBeDefined();
      expect(namesIn(tree.dependencies?.[name]), name).not.toContain(MOCK);
    }
    // The walk sees @portico/mock where it is: under the CLI, which serves it (portico mock).
    expect(namesIn(tree.dependencies?.['@portico/cli'])).toContain(MOCK);
  });

  it.each(PROVIDERS)(
    '%s: a fresh project installs it with @portico/mock, vitest and msw, and its own suite passes against startMock and MSW',
    async (name) => {
      const slug = name.split('/')[1]!;
      const dir = writeMockProject(slug);
      await ok(dir, 'npm', 'install', name, MOCK);
      await ok(dir, 'npm', 'install', '--save-dev', ...TOOLS);
      expect(version(dir, MOCK)).toBe(repoVersion(MOCK));
      expect(version(dir, name)).toBe(repoVersion(name));
      // The versions this workspace tests with, the only ones the registry has.
      for (const tool of TOOLS) expect(seeded, tool).toContain(`${tool}@${version(dir, tool)}`);
      const tree: Tree = JSON.parse(await ok(dir, 'npm', 'ls', '--all', '--json'));
      expect(namesIn(tree.dependencies?.[name])).not.toContain(MOCK);

      const types = await sh(dir, process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
      expect(types.out).toBe('');
      expect(types.code).toBe(0);

      const run = await sh(dir, join(dir, 'node_modules/.bin/vitest'), ['run', '--reporter=json', '--outputFile=results.json']);
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
        testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
      };
      const tests = results.testResults.flatMap((file) => file.assertionResults);
      const failed = tests.filter((t) => t.status !== 'passed');
      expect(
        failed.map((t) => `${t.fullName}: ${t.failureMessages.join(' ').slice(0, 600)}`),
        run.out.slice(-3000),
      ).toEqual([]);
      expect(run.code).toBe(0);
      // Every test ran both ways, and the suite covers what the provider has.
      for (const way of ['startMock', 'msw'])
        expect(tests.filter((t) => t.fullName.includes(`through ${way}`)).length, way).toBe(tests.length / 2);
      const covered = (pattern: RegExp) => tests.some((t) => pattern.test(t.fullName));
      expect(covered(/signs in/)).toBe(true);
      expect(covered(/429 and its Retry-After/)).toBe(true);
      const doc = loadSpec(slug);
      if (doc['x-portico-auth'].grants.includes('refresh_token')) {
        expect(covered(/refresh token rotates/)).toBe(true);
        expect(covered(/revoked grant ends in ReauthorizationRequiredError/)).toBe(true);
      }
      if (operations(doc).some((o) => o.op['x-portico-pagination'])) expect(covered(/pages to the end/)).toBe(true);
      if (doc['x-portico-webhook-signature']) expect(covered(/verifies a webhook/)).toBe(true);
      console.log(
        `install: ${name} with ${MOCK}: ${results.numPassedTests} tests passed (${tests.length / 2} each through startMock and MSW)`,
      );
    },
  );

  it('the consumer type-checks with tsc --strict under nodenext and bundler resolution', async () => {
    const [nodenext, bundler, future] = await Promise.all([
      tsc('tsconfig.nodenext.json'),
      tsc('tsconfig.bundler.json'),
      tsc('tsconfig.modified-since.json'),
    ]);
    expect(nodenext.out).toBe('');
    expect(nodenext.code).toBe(0);
    expect(bundler.out).toBe('');
    expect(bundler.code).toBe(0);
    // The proof for the second round: this call does not compile yet.
    expect(future.code).not.toBe(0);
    expect(future.out).toMatch(/modified-since\.ts.*error TS/);
  });

  it('the consumer makes an authenticated call with each package against the emulators', async () => {
    const emulators = await startEmulators();
    try {
      const { code, out } = await sh(consumer, process.execPath, ['main.mjs', JSON.stringify(emulators.config)], 60_000);
      expect(code, out).toBe(0);
      const results: Record<string, string> = JSON.parse(out.trim().split('\n').at(-1)!);
      console.log(
        `install: ${Object.entries(results)
          .map(([k, v]) => `${k} ${v}`)
          .join('; ')}`,
      );
      expect(Object.keys(results).sort()).toEqual([...PROVIDERS].sort());
      for (const [name, result] of Object.entries(results)) expect(result, name).toMatch(/^200 /);
      expect(results['@portico/dapi']).toMatch(/; after revokeGrant 401$/);
      // Dapi's call is made again after revokeGrant, with the same (now refused) token.
      for (const [name, sent] of Object.entries(emulators.apiAuthorizations()))
        expect(sent, name).toEqual(Array(name === '@portico/dapi' ? 2 : 1).fill(expect.stringMatching(/^Bearer \S+$/)));
    } finally {
      await emulators.close();
    }
  });

  it('a spec change needs a changeset: the check names the provider (and the mock, which serves its spec), the change and the bump', async () => {
    addModifiedSince();
    const without = await sh(repo, 'pnpm', ['check:semver']);
    expect(without.code, without.out).not.toBe(0);
    expect(without.out).toContain(
      '@portico/dexero-fd: specs/dexero-fd/openapi.yaml changed since last release @portico/dexero-fd@0.1.0 and needs a minor release, but there is no changeset for @portico/dexero-fd.',
    );
    expect(without.out).toContain('minor: GET /records.{format}: query parameter modifiedSince — added, optional');
    const changeset = join(repo, '.changeset/records-modified-since.md');
    writeFileSync(changeset, '---\n"@portico/dexero-fd": minor\n---\n\n`listRecords` takes an optional `modifiedSince` filter.\n');
    const providerOnly = await sh(repo, 'pnpm', ['check:semver']);
    expect(providerOnly.code, providerOnly.out).not.toBe(0);
    expect(providerOnly.out).toContain(
      "@portico/mock (it serves @portico/dexero-fd's spec as it is): specs/dexero-fd/openapi.yaml changed since last release @portico/mock@0.1.0 and needs a minor release, but there is no changeset for @portico/mock.",
    );
    writeFileSync(
      changeset,
      '---\n"@portico/dexero-fd": minor\n"@portico/mock": minor\n---\n\n`listRecords` takes an optional `modifiedSince` filter.\n',
    );
    await ok(repo, 'pnpm', 'check:semver');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'dexero-fd: filter records by modification time');
  });

  it('the second release publishes only the changed packages, and the consumer upgrades to it', async () => {
    await ok(repo, 'pnpm', 'version-packages');
    expect(repoVersion('@portico/dexero-fd')).toBe('0.2.0');
    expect(repoVersion('@portico/fdx')).toBe('0.1.0');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'Version packages');
    const out = await ok(repo, 'pnpm', 'release');
    expect(out).toContain('New tag:  @portico/dexero-fd@0.2.0');
    expect(out).toContain('New tag:  @portico/mock@0.2.0');
    // The CLI depends on every provider package and the mock (and carries a catalog of their operations): it follows with a patch.
    expect(out).toContain('New tag:  @portico/cli@0.1.1');
    expect(out).not.toMatch(/New tag: {2}@portico\/(?!dexero-fd@|mock@|cli@)/);
    expect(await latest('@portico/dexero-fd')).toBe('0.2.0');

    await ok(consumer, 'npm', 'install', '@portico/dexero-fd@latest');
    expect(version(consumer, '@portico/dexero-fd')).toBe('0.2.0');
    const changelog = readFileSync(join(consumer, 'node_modules/@portico/dexero-fd/CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(/## 0\.2\.0\n\n### Minor Changes\n\n- [0-9a-f]+: `listRecords` takes an optional `modifiedSince` filter\./);
    const future = await tsc('tsconfig.modified-since.json');
    expect(future.out).toBe('');
    expect(future.code).toBe(0);
  });
});
