// GitHub's published OpenAPI document (@octokit/openapi, a root
// devDependency: 1,223 operations, 13 MB, OpenAPI 3.0) as a Portico provider
// in a scratch tree, to prove the generator on a large real-world spec. The
// tree is never committed (the default, .scratch/, is gitignored) and the
// spec is not held to Portico's lint rules, which are for hand-written specs.
//   tsx tools/github-spec.ts [dir]     writes and generates dir/packages/github (default .scratch/github)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..');
export const GITHUB_SPEC = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');

export interface GithubTree {
  root: string;
  /** packages/github inside `root`. */
  pkg: string;
  /** Wall time of `tools/generate.ts github`, a fresh process, in ms. */
  generateMs: number;
}

/**
 * The spec as published plus what Portico needs: GitHub documents no security
 * scheme, so a static bearer token (a personal access token or an app's
 * installation token) is declared for every operation, optional as GitHub's
 * public endpoints allow.
 */
export function githubDocument(): Record<string, any> {
  const doc = JSON.parse(readFileSync(GITHUB_SPEC, 'utf8'));
  doc.components.securitySchemes = {
    token: { type: 'http', scheme: 'bearer', description: 'A GitHub personal access token or installation token.' },
  };
  doc.security = [{ token: [] }, {}];
  doc['x-portico-auth'] = { description: 'Static bearer token.', securityScheme: 'token' };
  return doc;
}

/**
 * A consumer's typed calls on `client`, the same for a Portico client and for
 * bare openapi-fetch over the generated `paths` (test and bench share them).
 */
export const GITHUB_CALLS = `export async function calls() {
  const { data: repo } = await client.GET('/repos/{owner}/{repo}', { params: { path: { owner: 'octocat', repo: 'hello-world' } } });
  const name: string | undefined = repo?.full_name;
  const { data: issue } = await client.POST('/repos/{owner}/{repo}/issues', { params: { path: { owner: 'o', repo: 'r' } }, body: { title: 'Found a bug', labels: ['bug'] } });
  const number: number | undefined = issue?.number;
  const { data: me } = await client.GET('/user');
  const { data: page } = await client.GET('/orgs/{org}/repos', { params: { path: { org: 'github' }, query: { per_page: 50, type: 'public' } } });
  const first: string | undefined = page?.[0]?.name;
  await client.DELETE('/repos/{owner}/{repo}/issues/comments/{comment_id}', { params: { path: { owner: 'o', repo: 'r', comment_id: 1 } } });
  return [name, number, me, first];
}
`;

/** Writes the scratch tree under `root` (replacing what was there) and generates the package into it. */
export function generateGithub(root: string): GithubTree {
  rmSync(root, { recursive: true, force: true });
  const pkg = join(root, 'packages', 'github');
  mkdirSync(join(root, 'specs', 'github'), { recursive: true });
  mkdirSync(join(pkg, 'node_modules', '@portico'), { recursive: true });
  // JSON is valid YAML, and the generator reads JSON fast.
  writeFileSync(join(root, 'specs', 'github', 'openapi.yaml'), JSON.stringify(githubDocument()));
  copyFileSync(join(REPO, 'tsconfig.base.json'), join(root, 'tsconfig.base.json'));
  writeFileSync(
    join(pkg, 'package.json'),
    `${JSON.stringify({ name: '@portico/github', version: '0.0.0', private: true, type: 'module', sideEffects: false, exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }, null, 2)}\n`,
  );
  writeFileSync(
    join(pkg, 'tsconfig.json'),
    `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist', declarationMap: false, sourceMap: false }, include: ['src'] }, null, 2)}\n`,
  );
  for (const dep of ['auth', 'runtime']) symlinkSync(join(REPO, 'packages', dep), join(pkg, 'node_modules', '@portico', dep));
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(HERE, 'generate.ts'), 'github'], {
    env: { ...process.env, PORTICO_ROOT: root },
    encoding: 'utf8',
  });
  const generateMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`generating the GitHub spec failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return { root, pkg, generateMs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tree = generateGithub(process.argv[2] ?? join(REPO, '.scratch', 'github'));
  console.log(`${tree.pkg}: generated in ${(tree.generateMs / 1000).toFixed(1)} s`);
}
