// Types that compile on any valid document (issue 23, problems 3 and 4), and
// x-portico-auth credentials of every shape: a fixture spec for each,
// scaffolded, generated and built by `pnpm new-provider` in a scratch tree,
// then a consumer's calls type-checked with tsc strict: the calls a document
// allows compile, and wrong ones do not. The credential packages are also
// called against a loopback API that records what each request carried.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, LoopbackServer, type RecordedRequest } from '../../packages/testing/src/http.ts';
import { packageName } from '../lib/specs.ts';
import { bin, run, scaffold, scratchTree, typecheckConsumer, writeSpec } from './scratch-tree.ts';
import { prelude } from './typecheck.ts';

const FIXTURES = ['nullable-allof', 'defaulted-body', 'credentials-pair', 'credentials-oauth'] as const;
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

/** The fixture's built package, or a failure saying why it did not build. */
const builtPackage = (slug: (typeof FIXTURES)[number]) =>
  built.get(slug)!.catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${slug} does not build: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  });

/**
 * Type-checks `consumer` against the fixture's package. Without its
 * `@ts-expect-error` lines, it must fail exactly on the lines they mark (one
 * wrong call on each): then with them it compiles, and each is needed.
 */
async function expectCalls(slug: (typeof FIXTURES)[number], consumer: string) {
  const pkg = await builtPackage(slug);
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

describe('x-portico-auth credentials: createClient takes one alternative, whole', () => {
  it('two header keys sent together, or basic: each alternative compiles; a missing field, a mix of both, a number or another input does not', async () => {
    await expectCalls(
      'credentials-pair',
      `import { createClient } from './dist/index.js';

export const pair = createClient({ auth: { accountId: 'acct_1', apiToken: 'tok_1' } });
export const basic = createClient({ auth: { username: 'parcel-user', password: 'parcel-password' } });
// @ts-expect-error the pair needs both keys
createClient({ auth: { accountId: 'acct_1' } });
// @ts-expect-error half of one alternative and half of the other is neither
createClient({ auth: { accountId: 'acct_1', password: 'parcel-password' } });
// @ts-expect-error basic needs both fields
createClient({ auth: { username: 'parcel-user' } });
// @ts-expect-error a key is a string
createClient({ auth: { accountId: 'acct_1', apiToken: 42 } });
// @ts-expect-error the default apiKey field is not this provider's
createClient({ auth: { apiKey: 'k' } });
// @ts-expect-error both alternatives whole: the runtime would quietly use one
createClient({ auth: { accountId: 'acct_1', apiToken: 'tok_1', username: 'parcel-user', password: 'parcel-password' } });
`,
    );
  });

  it('OAuth grants and a held personal token: a session, a token or the personal token compile; a number or another field does not', async () => {
    await expectCalls(
      'credentials-oauth',
      `import { createClient, oauth, type Tokens } from './dist/index.js';

declare const tokens: Tokens;
const flow = oauth({ clientId: 'id', clientSecret: 'secret', redirectUri: 'https://app.example/callback' });
export const session = createClient({ auth: flow.session(tokens) });
export const token = createClient({ auth: { accessToken: 'at_1' } });
export const personal = createClient({ auth: { personalToken: 'pt_1' } });
// @ts-expect-error the personal token is a string
createClient({ auth: { personalToken: 42 } });
// @ts-expect-error a held credential's field is its input name, not the default apiKey
createClient({ auth: { apiKey: 'pt_1' } });
// @ts-expect-error OAuth without a token is no input
createClient({ auth: { clientId: 'id' } });
// @ts-expect-error a token and the personal token: one or the other
createClient({ auth: { accessToken: 'at_1', personalToken: 'pt_1' } });
`,
    );
  });

  it.each([
    ['credentials-pair', 1],
    ['credentials-oauth', 1],
  ] as const)("%s: the README's auth snippet compiles, with its %i commented-out alternatives uncommented", async (slug, commented) => {
    const pkg = await builtPackage(slug);
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const snippet = /## Authenticate[^\n]*\n+```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    // A reader uncomments an alternative in place of the client above it.
    let uncommented = 0;
    const alternatives = snippet.replace(/^\/\/ const client = /gm, () => `const client${++uncommented} = `);
    expect(uncommented).toBe(commented);
    const source = `${prelude(slug)}declare const process: { env: Record<string, string | undefined> };\n${alternatives}\nexport {};\n`;
    expect(await typecheckConsumer(pkg, source.replaceAll(`'${packageName(slug)}'`, "'./dist/index.js'"))).toBe('');
  });
});

/** Answers every route with its path, so a test reads what each request carried from `requests`. */
class RecordingApi extends LoopbackServer {
  constructor(paths: string[]) {
    super();
    for (const path of paths) this.route(`GET /v1${path}`, () => json(200, { id: path }));
  }
}

describe('x-portico-auth credentials on the wire, through the built package', () => {
  let api: RecordingApi;
  beforeAll(async () => {
    api = await new RecordingApi(['/parcels/p_1', '/account', '/status', '/files/f_1']).start();
  });
  afterAll(() => api?.close());

  /** The request headers of each call `calls` makes with a client of the fixture's package. */
  async function sent(
    slug: (typeof FIXTURES)[number],
    options: Record<string, unknown>,
    calls: (client: any) => Promise<unknown>[],
  ): Promise<RecordedRequest['headers'][]> {
    const mod = await import(pathToFileURL(join(await builtPackage(slug), 'dist/index.js')).href);
    api.reset();
    const client = mod.createClient({ baseUrl: `${api.url}/v1`, maxRetries: 0, ...options });
    for (const call of calls(client)) expect(((await call) as { error?: unknown }).error).toBeUndefined();
    return api.requests.map((r) => r.headers);
  }
  const parcel = (client: any, init = {}) => client.GET('/parcels/{parcelId}', { params: { path: { parcelId: 'p_1' } }, ...init });
  const ACCOUNT = { accountId: 'acct-0123456789', apiToken: 'tok-0123456789' };
  const VERSION = '2024-06-01';

  it('the pair: both keys, the token behind its prefix; one key where the operation takes one; no credential on a public one; the version header on every one', async () => {
    const [both, account, status] = await sent('credentials-pair', { auth: ACCOUNT }, (c) => [
      parcel(c),
      c.GET('/account'),
      c.GET('/status'),
    ]);
    expect(both).toMatchObject({
      'x-account-id': ACCOUNT.accountId,
      authorization: `Token ${ACCOUNT.apiToken}`,
      'parcels-version': VERSION,
    });
    expect(account).toMatchObject({ 'x-account-id': ACCOUNT.accountId, 'parcels-version': VERSION });
    expect(account!.authorization).toBeUndefined();
    expect(status).toMatchObject({ 'parcels-version': VERSION });
    expect([status!['x-account-id'], status!.authorization]).toEqual([undefined, undefined]);
  });

  it('the basic alternative: Basic on the operation that takes it, nothing where only the pair would do', async () => {
    const [both, account] = await sent('credentials-pair', { auth: { username: 'parcel-user', password: 'parcel-password' } }, (c) => [
      parcel(c),
      c.GET('/account'),
    ]);
    expect(both).toMatchObject({ authorization: `Basic ${btoa('parcel-user:parcel-password')}`, 'parcels-version': VERSION });
    expect(both!['x-account-id']).toBeUndefined();
    expect([account!['x-account-id'], account!.authorization]).toEqual([undefined, undefined]);
  });

  it("a client's own version header wins over the constant one, and a call's over both", async () => {
    const [client, call] = await sent('credentials-pair', { auth: ACCOUNT, headers: { 'Parcels-Version': '2025-01-01' } }, (c) => [
      c.GET('/status'),
      c.GET('/status', { headers: { 'parcels-version': '2026-01-01' } }),
    ]);
    expect([client!['parcels-version'], call!['parcels-version']]).toEqual(['2025-01-01', '2026-01-01']);
  });

  it('OAuth and a personal token: each goes in its own header, none on a public operation', async () => {
    const file = (c: any) => c.GET('/files/{fileKey}', { params: { path: { fileKey: 'f_1' } } });
    const [personal, open] = await sent('credentials-oauth', { auth: { personalToken: 'pt-0123456789' } }, (c) => [
      file(c),
      c.GET('/status'),
    ]);
    expect(personal).toMatchObject({ 'x-canvas-token': 'pt-0123456789' });
    expect(personal!.authorization).toBeUndefined();
    expect([open!['x-canvas-token'], open!.authorization]).toEqual([undefined, undefined]);
    const [token] = await sent('credentials-oauth', { auth: { accessToken: 'at-0123456789' } }, (c) => [file(c)]);
    expect(token).toMatchObject({ authorization: 'Bearer at-0123456789' });
    expect(token!['x-canvas-token']).toBeUndefined();
  });
});
