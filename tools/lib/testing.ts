// "Testing your integration": a user's own vitest file against the provider's
// fake (@portico/mock), for the provider README and the docs site. Built from
// the same pieces as the README's first call, and from what the mock itself
// says a client holds and a user brings, so the three never disagree.
import { clientInputs, userInputs } from '../../packages/mock/src/facts.ts';
import { authenticated, requestArg, str } from './readme.ts';
import { type Json, type Operation, operations, packageName } from './specs.ts';

/** The call a test makes: the README's first call (an authenticated GET, else a retry-safe read). */
function testedCall(doc: Json): Operation | undefined {
  const ops = operations(doc).filter(authenticated(doc));
  return ops.find((o) => o.method === 'get') ?? ops.find((o) => o.op['x-portico-retry-safe']);
}

/** How the test's client reaches the mock: pointed at startMock's URL, or left at the provider's real URLs for MSW to answer. */
interface Target {
  client: string;
  spread: string;
  argument: string;
}

const TARGETS: Record<'startMock' | 'msw', Target> = {
  startMock: { client: '...mock.clientOptions, ', spread: ', ...mock.authOptions', argument: ', mock.authOptions' },
  msw: { client: '', spread: '', argument: '' },
};

/** `async function signIn()` as the provider's grant goes, returning the client and what the call needs from the user's link. */
function signIn(
  doc: Json,
  call: string,
  held: readonly string[],
  at: Target,
): { imports: string[]; lines: string[]; returns: string[] } | undefined {
  const profile = doc['x-portico-auth'];
  const grants: string[] = profile.grants ?? [];
  if (grants.includes('authorization_code')) {
    const scopes = doc.components?.securitySchemes?.[profile.securityScheme]?.flows?.authorizationCode?.scopes ?? {};
    const scope = [...new Set([...(profile.authorization?.requiredScopes ?? []), ...Object.keys(scopes)])].slice(0, 2).map(str).join(', ');
    const pkce = profile.authorization?.pkce !== 'none' ? ', codeVerifier' : '';
    return {
      imports: ['createClient', 'oauth'],
      returns: [],
      lines: [
        '/** Signs in as a user of your app would; the mock plays the consent page. */',
        'async function signIn() {',
        `  const flow = oauth({ ...mock.client${at.spread} });`,
        `  const { url, state${pkce} } = await flow.authorizationUrl({ scope: [${scope}] });`,
        '  // Where the consent page sends the browser back to: your redirect URI with a code and the state.',
        `  const tokens = await flow.exchangeCode(mock.controller.approve(url), { state${pkce} });`,
        `  return { client: createClient({ ${at.client}auth: flow.session(tokens) }) };`,
        '}',
      ],
    };
  }
  if (grants.includes('client_credentials'))
    return {
      imports: ['createClient'],
      returns: [],
      lines: [
        `/** Your app with the credentials the mock accepts${at.spread ? ", its token endpoint the mock's" : ''}. */`,
        'async function signIn() {',
        `  return { client: createClient({ ${at.client}auth: { ...mock.client${at.spread} } }) };`,
        '}',
      ],
    };
  if (grants.includes('access_code_exchange')) {
    const exchanged: string[] = profile.token.grants.access_code_exchange?.inputs ?? [];
    const own = new Set(clientInputs(profile));
    const link = userInputs(profile);
    // What the call sends of the user's link (Dapi's userSecret) goes back to the test.
    const returns = link.filter((name) => !exchanged.includes(name) && new RegExp(`\\b${name}\\b`).test(call));
    const brought = link.filter((name) => exchanged.includes(name) || returns.includes(name));
    return {
      imports: ['createClient', 'exchangeToken'],
      returns,
      lines: [
        "/** A user links their account (the mock plays the provider's Connect layer); your app exchanges the code. */",
        'async function signIn() {',
        `  const { ${brought.join(', ')} } = mock.controller.connect();`,
        `  const tokens = await exchangeToken({ ${exchanged.map((name) => (own.has(name) && !held.includes(name) ? `${name}: mock.client.${name}` : name)).join(', ')} }${at.argument});`,
        `  return { client: createClient({ ${at.client}auth: { accessToken: tokens.accessToken } })${returns.map((r) => `, ${r}`).join('')} };`,
        '}',
      ],
    };
  }
  return undefined;
}

/**
 * A vitest file that signs in against the mock and makes the first call, then
 * makes it again through a 429 with `Retry-After`. Undefined for a provider
 * the mock does not serve (no grant in its profile) or with no call to make.
 */
export function testingSnippet(slug: string, doc: Json, via: keyof typeof TARGETS = 'startMock'): string | undefined {
  const profile = doc['x-portico-auth'];
  const operation = testedCall(doc);
  // The mock serves the profiles that have grants (a key the user holds needs no fake authorization server).
  if (!operation || !profile.grants?.length) return undefined;
  // Through MSW the client keeps the provider's URLs: an authorization server each institution hosts (FDX) has none to keep.
  if (via === 'msw' && String(profile.authorization?.url ?? '').startsWith('/')) return undefined;
  const call = `client.${operation.method.toUpperCase()}(${str(operation.path)}${requestArg(doc, operation)})`;
  // The call's own variables from the client's credentials (Dapi's appSecret), once for the file.
  const held = clientInputs(profile).filter((name) => new RegExp(`\\b${name}\\b`).test(call));
  const auth = signIn(doc, call, held, TARGETS[via]);
  if (!auth) return undefined;
  const got = ['client', ...auth.returns].join(', ');
  const id = str(String(operation.op.operationId));
  const setup =
    via === 'startMock'
      ? [
          "import { startMock } from '@portico/mock';",
          "import { afterAll, beforeEach, expect, it } from 'vitest';",
          `import { ${auth.imports.join(', ')} } from '${packageName(slug)}';`,
          '',
          '// The provider as a fake on a loopback port: its auth, answers from its spec, faults on demand.',
          `const mock = await startMock(${str(slug)});`,
          'afterAll(() => mock.close());',
          'beforeEach(() => mock.controller.reset());',
        ]
      : [
          "import { createMock } from '@portico/mock';",
          "import { mswHandlers, releaseMockedBodies } from '@portico/mock/msw';",
          "import { setupServer } from 'msw/node';",
          "import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';",
          `import { ${auth.imports.join(', ')} } from '${packageName(slug)}';`,
          '',
          "// The fake answers at the provider's own URLs, through MSW: the client is created as in production.",
          `const mock = createMock(${str(slug)});`,
          'const server = setupServer(...mswHandlers(mock));',
          '// msw 2 on Node: a response body the client cancels (a retried 429) would never settle without it.',
          'releaseMockedBodies(server);',
          "beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));",
          'afterAll(() => server.close());',
          'beforeEach(() => mock.controller.reset());',
        ];
  return [
    ...setup,
    ...(held.length ? [`const { ${held.join(', ')} } = mock.client;`] : []),
    '',
    ...auth.lines,
    '',
    "it('signs in and makes a first call', async () => {",
    `  const { ${got} } = await signIn();`,
    `  const { data, error } = await ${call};`,
    '  expect(error).toBeUndefined();',
    '  expect(data).toBeDefined();',
    '});',
    '',
    "it('waits out a 429 and its Retry-After, then gets the answer', async () => {",
    `  const { ${got} } = await signIn();`,
    `  mock.controller.fail(${id}, { kind: 'rate-limit', retryAfterSeconds: 1 });`,
    `  const { data } = await ${call};`,
    '  expect(data).toBeDefined();',
    `  expect(mock.controller.requests.filter((r) => r.operationId === ${id})).toHaveLength(2);`,
    '});',
  ].join('\n');
}
