// Types that compile on any valid document (issue 23, problems 3 and 4): a
// fixture spec for each, scaffolded, generated and built by `pnpm
// new-provider` in a scratch tree, then a consumer's calls type-checked with
// tsc strict: the calls a document allows compile, and wrong ones do not.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, run, scaffold, scratchTree, typecheckConsumer, writeSpec } from './scratch-tree.ts';

const FIXTURES = ['nullable-allof', 'defaulted-body'] as const;
let tree: string;
/** The built package of each fixture, or why it did not build. */
const built = new Map<string, Promise<string>>();

beforeAll(() => {
  tree = scratchTree('portico-published-types-');
  // new-provider edits the tree's redocly.yaml and .size-limit.js: one at a time. The builds overlap.
  let scaffolded: Promise<unknown> = Promise.resolve();
  for (const slug of FIXTURES) {
    writeSpec(tree, slug, readFileSync(join(import.meta.dirname, 'fixtures', `${slug}.yaml`), 'utf8'));
    const pkg = scaffolded.then(() => scaffold(tree, slug));
    scaffolded = pkg.catch(() => {});
    const build = pkg.then(async (dir) => {
      await run(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir });
      return dir;
    });
    // Each test reports its own package's failure; none is left unhandled meanwhile.
    build.catch(() => {});
    built.set(slug, build);
  }
});
afterAll(() => rmSync(tree, { recursive: true, force: true }));

/**
 * Type-checks `consumer` against the fixture's package. Without its
 * `@ts-expect-error` lines, it must fail exactly on the lines they mark (one
 * wrong call on each): then with them it compiles, and each is needed.
 */
async function expectCalls(slug: (typeof FIXTURES)[number], consumer: string) {
  const pkg = await built.get(slug)!.catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${slug} does not build: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  });
  const marker = (line: string) => line.trim().startsWith('// @ts-expect-error');
  const lines = consumer.split('\n');
  // Each wrong call moves up a line for every marker above it once they are gone.
  const wrong = lines.flatMap((line, i) => (marker(line) ? [i + 1] : [])).map((line, before) => line - before);
  expect(wrong.length).toBeGreaterThanOrEqual(2);
  const errors = await typecheckConsumer(pkg, lines.filter((line) => !marker(line)).join('\n'));
  expect(errors.split('\n').filter((line) => line.trim() && !/^consumer\.ts\(\d+,\d+\): error|^\s/.test(line))).toEqual([]);
  expect([...new Set([...errors.matchAll(/^consumer\.ts\((\d+),\d+\): error/gm)].map((m) => Number(m[1])))]).toEqual(wrong);
}

describe('generated types on valid documents that openapi-typescript alone gets wrong', () => {
  it('a nullable base schema made stricter through allOf: the package builds, and its calls type-check', async () => {
    await expectCalls(
      'nullable-allof',
      `import { createClient } from './dist/index.js';

const client = createClient({ auth: { accessToken: 't' } });
export async function calls() {
  const { data: created } = await client.POST('/notes', { body: { title: 'Groceries' } });
  const title: string | undefined = created?.title;
  const { data: note } = await client.GET('/notes/{noteId}', { params: { path: { noteId: 'n_1' } } });
  if (note) {
    const id: string = note.id;
    const body: string = note.body;
    return [title, id, body];
  }
  // @ts-expect-error title is required
  await client.POST('/notes', { body: { body: 'no title' } });
  // @ts-expect-error title is a string
  await client.POST('/notes', { body: { title: 42 } });
  return [];
}
`,
    );
  });

  it('defaulted properties: a request body may leave them out, a response has them', async () => {
    await expectCalls(
      'defaulted-body',
      `import { createClient } from './dist/index.js';

const client = createClient({ auth: { accessToken: 't' } });
export async function calls() {
  const { data } = await client.POST('/domains', { body: { name: 'example.com' } });
  await client.POST('/domains', { body: { name: 'example.com', region: 'eu-west-1', settings: { tracking: { clicks: true } } } });
  await client.PATCH('/domains/{domainId}', { params: { path: { domainId: 'd_1' } }, body: {} });
  if (data) {
    const region: 'us-east-1' | 'eu-west-1' = data.region;
    const tls: 'opportunistic' | 'enforced' | undefined = data.settings?.tls;
    const opens: boolean | undefined = data.settings?.tracking?.opens;
    return [region, tls, opens];
  }
  // @ts-expect-error name is required
  await client.POST('/domains', { body: { region: 'us-east-1' } });
  // @ts-expect-error region is one of its enum's values
  await client.POST('/domains', { body: { name: 'example.com', region: 'mars' } });
  // @ts-expect-error clicks is required in tracking
  await client.PATCH('/domains/{domainId}', { params: { path: { domainId: 'd_1' } }, body: { tracking: { opens: true } } });
  return [];
}
`,
    );
  });
});
