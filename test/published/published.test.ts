// Five OpenAPI documents as their providers publish them (../shared/published-specs,
// unmodified; SOURCES.md there says where each comes from), each taken from
// file to package the way a user does it: `pnpm new-provider <slug> --from
// <file>` in a scratch copy of the tree, which lints with the imported rule
// set, generates and builds. Then a consumer of the built package must
// type-check its typed calls and fail on its wrong ones, and one call goes
// through Prism (which checks the request and its security against the same
// document) behind a recorder that reads the exact credential off the wire.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/lib/specs.ts';
import { bin, env, run, scratchTree, typecheckConsumer } from '../../tools/test/scratch-tree.ts';
import { type Prism, startPrism } from '../wire/prism.ts';
import { consumerOf, DOCUMENTS, PUBLISHED_SPECS as PUBLISHED, type PublishedDocument } from './documents.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface Case extends PublishedDocument {
  /** More lines that must compile (other credential shapes). */
  alsoTyped: string[];
  /** Lines that must not compile: each is preceded by `// @ts-expect-error`, so one that compiles fails tsc. */
  wrong: string[];
  /** The call made through Prism with a client holding `auth`; `withAuth` builds another client there. */
  wire: (client: any, withAuth: (auth: Record<string, string>) => any) => Promise<{ response: Response }>;
  /** Checks what the recorder saw. */
  sent: (seen: Seen[]) => void;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
/** Only the credential parts the case expects: no other authorization-like header goes out. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-figma-token', 'cookie'];
const credentialsOf = (seen: Seen) =>
  Object.fromEntries(CREDENTIAL_HEADERS.filter((h) => seen.headers[h] !== undefined).map((h) => [h, seen.headers[h]]));
const doc = (slug: string) => DOCUMENTS.find((d) => d.slug === slug)!;

const CASES: Case[] = [
  {
    ...doc('resend'),
    alsoTyped: [],
    wrong: [
      "await client.POST('/domains', { body: { region: 'us-east-1' } });",
      "await client.GET('/emails/{email_id}', { params: { path: {} } });",
      "createClient({ auth: { apiKey: 're_x' } });",
    ],
    wire: (c) => c.GET('/domains'),
    sent: ([call]) => expect(credentialsOf(call!)).toEqual({ authorization: 'Bearer re_canary_0123456789' }),
  },
  {
    ...doc('figma'),
    alsoTyped: ["createClient({ auth: { accessToken: 'figu_x' } });"],
    wrong: [
      "await client.POST('/v1/files/{file_key}/comments', { params: { path: { file_key: 'f' } }, body: {} });",
      "await client.GET('/v1/nope');",
      'createClient({ auth: { apiKey: 42 } });',
    ],
    wire: (c) => c.GET('/v1/me'),
    // The personal token goes in its own header, and no Authorization beside it.
    sent: ([call]) => expect(credentialsOf(call!)).toEqual({ 'x-figma-token': 'figd_canary_0123456789' }),
  },
  {
    ...doc('adyen'),
    alsoTyped: ["createClient({ auth: { apiKey: 'AQE_x' } });"],
    wrong: [
      "await client.POST('/paymentMethods', { body: { countryCode: 'NL' } });",
      "createClient({ auth: { username: 'ws@Company.Acme' } });",
      "await client.GET('/paymentLinks/{linkId}');",
    ],
    wire: async (c, withAuth) => {
      const first = await c.POST('/paymentMethods', { body: { merchantAccount: 'Acme' } });
      // The same client's public operation (no security) sends no credential.
      await c.POST('/validateShopperId', { body: { merchantAccount: 'Acme', shopperReference: 'x', paymentMethod: { type: 'scheme' } } });
      // The other alternative: the API key header, and no Basic beside it.
      const keyed = await withAuth({ apiKey: 'AQE-adyen-canary-0123' }).POST('/paymentMethods', { body: { merchantAccount: 'Acme' } });
      expect(keyed.response.status).toBeLessThan(300);
      return first;
    },
    sent: ([paid, open, keyed]) => {
      expect(credentialsOf(paid!)).toEqual({ authorization: basic('ws@Company.Acme', 'adyen-canary-0123') });
      expect(open!.path).toBe('/validateShopperId');
      expect(credentialsOf(open!)).toEqual({});
      expect(credentialsOf(keyed!)).toEqual({ 'x-api-key': 'AQE-adyen-canary-0123' });
    },
  },
  {
    ...doc('box'),
    alsoTyped: [],
    wrong: ["await client.POST('/tasks', { body: { message: 'Review' } });", "await client.GET('/folders/{folder_id}', {});"],
    wire: (c) => c.GET('/users/me'),
    sent: ([call]) => expect(credentialsOf(call!)).toEqual({ authorization: 'Bearer box_canary_0123456789' }),
  },
  {
    ...doc('paypal'),
    alsoTyped: [],
    wrong: [
      "await client.POST('/v2/checkout/orders', { body: { intent: 'CAPTURE' } });",
      "createClient({ auth: { accessToken: 'A21' } });",
    ],
    wire: (c) => c.GET('/v2/checkout/orders/{id}', { params: { path: { id: '5O190127TN364715T' } } }),
    sent: ([token, call]) => {
      // RFC 6749 §2.3.1 client_secret_basic at the document's relative token URL, then the token as a bearer.
      expect(`${token!.method} ${token!.path}`).toBe('POST /v1/oauth2/token');
      expect(credentialsOf(token!)).toEqual({ authorization: basic('pp-client', 'pp-secret-0123456789') });
      expect(credentialsOf(call!)).toEqual({ authorization: `Bearer ${PAYPAL_TOKEN}` });
    },
  },
];
const PAYPAL_TOKEN = 'A21AA-paypal-canary-0123456789';

/**
 * What the client sends, recorded, then passed on to Prism. It answers the
 * OAuth token request itself (Prism has no token endpoint: it is not in the
 * API's document), as the provider's authorization server would.
 */
async function recorder(upstream: string): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    seen.push({ method: req.method ?? 'GET', path, headers: req.headers });
    if (path.endsWith('/oauth2/token')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(
        JSON.stringify({
          access_token: PAYPAL_TOKEN,
          token_type: 'Bearer',
          expires_in: 32400,
          scope: 'https://uri.paypal.com/services/payments/payment',
        }),
      );
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
    ) as Record<string, string>;
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = Buffer.from(await answer.arrayBuffer());
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

let tree = '';
const mocks = new Map<string, Promise<Prism>>();

beforeAll(async () => {
  if (!existsSync(join(PUBLISHED, 'SOURCES.md')))
    throw new Error(
      `${PUBLISHED} is missing: the published documents sit beside the checkout in ../shared/published-specs (or set PORTICO_PUBLISHED_SPECS)`,
    );
  // Prism parses each document for a while (Figma's about a minute): all start now, while the imports run.
  for (const c of CASES) {
    const mock = startPrism(join(PUBLISHED, c.file), { errors: false, timeoutMs: 240_000 });
    mock.catch(() => {}); // awaited, and reported, by the case's own wire test
    mocks.set(c.slug, mock);
  }
  tree = scratchTree('portico-published-');
});

afterAll(async () => {
  await Promise.all([...mocks.values()].map((mock) => mock.then((m) => m.stop()).catch(() => {})));
  if (tree) rmSync(tree, { recursive: true, force: true });
});

describe.each(CASES)('a package from $file, published as is', (c) => {
  let pkg = '';

  it(`imports, lints, generates and builds with one command (pnpm new-provider ${c.slug} --from)`, async () => {
    pkg = join(tree, 'packages', c.slug);
    // What `pnpm install` links: the workspace's runtime and auth (the command builds the package before it returns).
    mkdirSync(join(pkg, 'node_modules', '@portico'), { recursive: true });
    for (const dep of ['auth', 'runtime']) symlinkSync(join(ROOT, 'packages', dep), join(pkg, 'node_modules', '@portico', dep));
    const { stdout } = await run(
      bin('tsx'),
      [join(ROOT, 'tools/new-provider.ts'), c.slug, '--from', join(PUBLISHED, c.file), '--skip-install'],
      {
        cwd: ROOT,
        env: { ...env, PORTICO_ROOT: tree },
        timeout: 240_000,
      },
    );
    expect(stdout).toContain(`built packages/${c.slug}/dist`);
    expect(existsSync(join(pkg, 'dist', 'index.js'))).toBe(true);
    expect(readFileSync(join(tree, 'specs', c.slug, 'openapi.yaml'), 'utf8')).toContain('x-portico-imported');
  });

  it('type-checks its typed calls and refuses the wrong ones', async () => {
    const head = `import { createClient } from './dist/index.js';\nconst client = createClient({ auth: ${JSON.stringify(c.auth)} });`;
    const wrong = ['export async function wrong() {', ...c.wrong.flatMap((line) => ['  // @ts-expect-error', `  ${line}`]), '}'];
    const source = consumerOf(head, [...c.calls, ...c.alsoTyped.map((l) => l.replace(/;$/, ''))], wrong);
    expect(await typecheckConsumer(pkg, source)).toBe('');
    // And each wrong call is refused on its own: without its @ts-expect-error, tsc reports it.
    const bare = source.replaceAll('  // @ts-expect-error\n', '');
    const errors = await typecheckConsumer(pkg, bare);
    const lines = bare.split('\n');
    for (const line of c.wrong) expect(errors).toContain(`consumer.ts(${lines.indexOf(`  ${line}`) + 1},`);
  });

  it('sends the exact credential the document asks for, through Prism', async () => {
    const front = await recorder((await mocks.get(c.slug)!).baseUrl);
    try {
      const { createClient } = await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href);
      const withAuth = (auth: Record<string, string>) => createClient({ auth, baseUrl: front.url, maxRetries: 0 });
      const { response } = await c.wire(withAuth(c.auth), withAuth);
      // Prism answers 401 without the security the document names, 422 for a request it does not describe.
      expect(response.status).toBeLessThan(300);
      c.sent(front.seen);
    } finally {
      front.server.closeAllConnections();
      await new Promise((resolve) => front.server.close(resolve));
    }
  });
});
