// GitHub's published OpenAPI document (1,223 operations, OpenAPI 3.0, not
// held to Portico's lint) generates, builds, type-checks a consumer's calls
// (and refuses wrong ones), and calls a loopback API with a static token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, LoopbackServer } from '../../packages/testing/src/http.ts';
import { GITHUB_CALLS, type GithubTree, generateGithub } from '../github-spec.ts';
import { bin, run, typecheckConsumer } from './scratch-tree.ts';

let tree: GithubTree;

beforeAll(() => {
  tree = generateGithub(join(mkdtempSync(join(tmpdir(), 'portico-github-')), 'tree'));
}, 600_000);
afterAll(() => rmSync(join(tree.root, '..'), { recursive: true, force: true }));

const CONSUMER = `import { createClient } from './dist/index.js';

const client = createClient({ auth: { accessToken: 'ghp_example' } });
${GITHUB_CALLS}
export async function wrong() {
  // @ts-expect-error the path parameters are required
  await client.GET('/repos/{owner}/{repo}');
  // @ts-expect-error not an operation of the API
  await client.GET('/repos/{owner}/{repo}/nope', { params: { path: { owner: 'o', repo: 'r' } } });
  // @ts-expect-error title is required
  await client.POST('/repos/{owner}/{repo}/issues', { params: { path: { owner: 'o', repo: 'r' } }, body: { body: 'no title' } });
  // @ts-expect-error per_page is a number
  await client.GET('/orgs/{org}/repos', { params: { path: { org: 'github' }, query: { per_page: 'fifty' } } });
  const { data } = await client.GET('/user');
  // @ts-expect-error no such field on the user
  data?.no_such_field;
  // @ts-expect-error GitHub's profile is a static token, not an API key
  createClient({ auth: { apiKey: 'k' } });
}
`;

describe("GitHub's OpenAPI document (@octokit/openapi)", () => {
  it('builds with tsc', async () => {
    await run(bin('tsc'), ['-p', join(tree.pkg, 'tsconfig.json')], { cwd: tree.pkg, timeout: 600_000 });
  }, 600_000);

  it('type-checks a handful of typed calls, and refuses wrong ones', async () => {
    expect(await typecheckConsumer(tree.pkg, CONSUMER)).toBe('');
    // Each @ts-expect-error above must be needed: without them, every wrong call is an error.
    const errors = await typecheckConsumer(tree.pkg, CONSUMER.replace(/\/\/ @ts-expect-error.*\n/g, ''));
    expect(errors.match(/consumer\.ts\(\d+,\d+\): error/g)).toHaveLength(6);
  }, 600_000);

  it('sends the token and validates the response on a loopback API', async () => {
    const api = await new (class extends LoopbackServer {
      constructor() {
        super();
        this.route('GET /repos/octocat/hello-world', (r) =>
          r.headers.authorization === 'Bearer ghp_example_token'
            ? json(200, { id: 1, full_name: 'octocat/hello-world' })
            : json(401, { message: 'Bad credentials' }),
        );
      }
    })().start();
    try {
      const mod = await import(pathToFileURL(join(tree.pkg, 'dist', 'index.js')).href);
      const client = mod.createClient({ baseUrl: api.url, auth: { accessToken: 'ghp_example_token' } });
      // The repository schema requires dozens of fields; the loopback sends two.
      const error = await client
        .GET('/repos/{owner}/{repo}', { params: { path: { owner: 'octocat', repo: 'hello-world' } } })
        .catch((e: Error) => e);
      expect(error).toBeInstanceOf(mod.ResponseValidationError);
      const lenient = mod.createClient({ baseUrl: api.url, auth: { accessToken: 'ghp_example_token' }, validateResponses: false });
      const { data } = await lenient.GET('/repos/{owner}/{repo}', { params: { path: { owner: 'octocat', repo: 'hello-world' } } });
      expect(data).toEqual({ id: 1, full_name: 'octocat/hello-world' });
    } finally {
      await api.close();
    }
  }, 120_000);
});
