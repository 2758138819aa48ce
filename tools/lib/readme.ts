// The provider package README, generated from the spec so its install line,
// auth snippet and first call never drift from the code.

import { clientInputs, userInputs } from '../../packages/mock/src/facts.ts';
import { exampleValue } from '../../packages/mock/src/values.ts';
import { credentials } from './auth.ts';
import { fieldsOf, profileSchemes } from './credential-rules.js';
import { allProperties, deref, isImported, type Json, type Operation, operations, packageName } from './specs.ts';

function envName(slug: string, what: string): string {
  return `${slug.replace(/-/g, '_').toUpperCase()}_${what}`;
}

const PARAMETER_IN = new Set(['path', 'query', 'header', 'cookie']);

/** `, { params: ... }` built from the spec's examples for an operation's required (and path) parameters. */
function paramsArg(doc: Json, pathItem: Json, op: Json): string {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((x) => deref(doc, x))) {
    // `in` is the spec's: only OpenAPI's four are keys here (`__proto__` would write to Object.prototype).
    if (!PARAMETER_IN.has(p.in)) continue;
    if (p.in !== 'path' && !p.required) continue;
    if (p.in === 'path' && p.schema?.default !== undefined) continue;
    (params[p.in] ??= Object.create(null))[p.name] =
      p.example ?? Object.values<Json>(p.examples ?? {})[0]?.value ?? exampleValue(doc, p.schema, p.name);
  }
  return Object.keys(params).length ? `, { params: ${literal(params)} }` : '';
}

/**
 * Whether `value` has only properties its schema declares, all the way down
 * (what TypeScript's excess-property check asks of a literal), and each enum
 * value among its schema's. Bounded in depth like `exampleValue`.
 */
function fits(doc: Json, at: Json, value: unknown, depth = 0): boolean {
  const schema = deref(doc, at);
  if (!schema || depth > 8) return true;
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.some((variant: Json) => fits(doc, variant, value, depth + 1));
  if (schema.enum && !schema.enum.includes(value)) return false;
  if (Array.isArray(value)) return !schema.items || value.every((item) => fits(doc, schema.items, item, depth + 1));
  if (value === null || typeof value !== 'object') return true;
  const parts = [schema, ...(schema.allOf ?? []).map((part: Json) => deref(doc, part))];
  if (parts.some((part) => part.oneOf || part.anyOf || part.patternProperties || (part.additionalProperties ?? false) !== false))
    return true;
  const properties = allProperties(doc, schema);
  return Object.entries(value).every(([key, item]) => key in properties && fits(doc, properties[key], item, depth + 1));
}

/**
 * A string as a single-quoted TypeScript literal. Every character the spec
 * gives is escaped as JSON escapes it (a published document's text is
 * someone else's: a quote or a line break must not end the string).
 */
export const str = (s: string) => `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;

/** Text from the spec on one line of a comment or a Markdown table: no line breaks, no HTML, no cell break. */
const oneLine = (s: unknown) =>
  String(s)
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/[<|`]/g, (c) => ({ '<': '&lt;', '|': '\\|', '`': "'" })[c]!);

/** An object literal's key: `__proto__`, bare or quoted, would set the prototype; computed, it is a property. */
const key = (k: string) => (k === '__proto__' ? `[${str(k)}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k));

/** A value as a TypeScript literal, the way a person would write it. */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value && typeof value === 'object') {
    // Credentials come from the reader's own variables, never from an example value.
    const entries = Object.entries(value).map(([k, v]) =>
      /secret|token|password/i.test(k) && /^[A-Za-z_$][\w$]*$/.test(k) ? k : `${key(k)}: ${literal(v)}`,
    );
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return typeof value === 'string' ? str(value) : JSON.stringify(value);
}

/** True for an operation that takes one of the profile's credentials. */
export const authenticated =
  (doc: Json) =>
  ({ op }: Operation) =>
    (op.security ?? doc.security ?? []).some((a: Json) => Object.keys(a).some((name) => profileSchemes(doc).has(name)));

/** `, { params: ..., body: ... }` from the spec's examples: what a call needs to be valid. */
export function requestArg(doc: Json, { pathItem, op }: Operation): string {
  const params = paramsArg(doc, pathItem, op);
  const body = deref(doc, op.requestBody);
  const media = Object.values<Json>(body?.content ?? {})[0];
  // A required body without an example gets one built from its schema: the call must have a body to compile.
  const given = media?.example ?? Object.values<Json>(media?.examples ?? {})[0]?.value;
  // A published document's example may have drifted from its schema (a property the schema lost): built from the schema then.
  const example =
    given !== undefined && (!media?.schema || fits(doc, media.schema, given))
      ? given
      : body?.required && media?.schema
        ? exampleValue(doc, media.schema, 'body')
        : undefined;
  if (example === undefined) return params;
  return params ? params.replace(/ }$/, `, body: ${literal(example)} }`) : `, { body: ${literal(example)} }`;
}

/** The first authenticated GET, else the first retry-safe read (every Dapi read is a POST): a safe first call. */
export function firstCall(doc: Json): string {
  const ops = operations(doc).filter(authenticated(doc));
  const candidate = ops.find((o) => o.method === 'get') ?? ops.find((o) => o.op['x-portico-retry-safe']);
  return candidate
    ? `const { data, error } = await client.${candidate.method.toUpperCase()}(${str(candidate.path)}${requestArg(doc, candidate)});`
    : '';
}

/** Retries, timeouts, typed errors, pagination, and the provider's own extras, in a few lines. */
function runtimeSnippet(slug: string, doc: Json): string {
  const ops = operations(doc).filter(authenticated(doc));
  const read =
    ops.find((o) => o.method === 'get' && /\{/.test(o.path)) ??
    ops.find((o) => o.method === 'get') ??
    ops.find((o) => o.op['x-portico-retry-safe']);
  const paged = ops.find((o) => o.op['x-portico-pagination']);
  const lines = [
    `import { NotFoundError, RateLimitError } from '${packageName(slug)}';`,
    '',
    '// Retries (connection errors, 408/409/429/5xx, honouring Retry-After) and timeouts are on by default.',
    'const strict = createClient({ auth, maxRetries: 3, timeout: 10_000, throwOnError: true });',
  ];
  if (read) {
    const request = requestArg(doc, read);
    const withTimeout = request ? request.replace(/ }$/, ', timeout: 5_000 }') : ', { timeout: 5_000 }';
    lines.push(
      'try {',
      `  const { data } = await strict.${read.method.toUpperCase()}(${str(read.path)}${withTimeout});`,
      '} catch (err) {',
      '  if (err instanceof NotFoundError) console.log(err.status, err.body, err.requestId);',
      '  else if (err instanceof RateLimitError) console.log(`retried ${err.method} ${err.path} and gave up`);',
      '  else throw err;',
      '}',
    );
  }
  if (paged) {
    lines.push('', '// Every item of a list, page after page, with a bound and an abort signal.');
    lines.push(
      `for await (const item of client.paginate(${str(paged.path)}${paramsArg(doc, paged.pathItem, paged.op) || ', {}'}, { maxPages: 10, signal })) {`,
      '  console.log(item);',
      '}',
    );
  }
  if (doc['x-portico-user-input']) {
    const input = ops.find((o) => o.op['x-portico-retry-safe']) ?? ops[0]!;
    lines.push('', '// When the bank asks the user something (OTP, a question), answer and resume.');
    lines.push(`const result = await withUserInput(client, ${str(input.path)}, { body: { appSecret, userSecret } }, async (questions) =>`);
    lines.push('  questions.map((q) => ({ ...q, answer: askTheUser(q.query) })),', ');');
    lines[0] = `import { NotFoundError, RateLimitError, withUserInput } from '${packageName(slug)}';`;
  }
  if (doc['x-portico-webhook-signature']) {
    lines.push('', `// Webhooks: check the ${oneLine(doc['x-portico-webhook-signature'].header)} signature and get the typed event.`);
    lines.push('const event = await verifyWebhook(rawBody, request.headers, signingSecret);');
    lines.push("if (event.type === 'consent.accepted') console.log(event.data.object);");
    lines[0] = `import { NotFoundError, RateLimitError, verifyWebhook } from '${packageName(slug)}';`;
  }
  const representation = ops.find((o) =>
    [...(o.pathItem.parameters ?? []), ...(o.op.parameters ?? [])].some((p: Json) => deref(doc, p)['x-portico-representation']),
  );
  if (representation) {
    lines.push('', '// JSON by default; ask for XML and get the same typed result.');
    lines.push(`const { data: fromXml } = await client.GET(${str(representation.path)}, { params: { path: { format: 'xml' } } });`);
  }
  return lines.join('\n');
}

/** `{ field: process.env.SLUG_FIELD! }` for one alternative of the credentials a user holds. */
function heldInput(slug: string, alternative: Json): string {
  const fields = Object.values(alternative).flatMap(fieldsOf);
  // The variable `portico call` reads the field from: apiKey -> SLUG_API_KEY.
  return `{ ${fields.map((f) => `${f}: process.env.${envName(slug, f.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())}!`).join(', ')} }`;
}

export function authSnippet(slug: string, doc: Json): string {
  const oauth = oauthSnippet(slug, doc);
  const held = credentials(doc);
  const snippet =
    oauth ?? `import { createClient } from '${packageName(slug)}';\n\nconst client = createClient({ auth: ${heldInput(slug, held[0]!)} });`;
  const others = (oauth ? held : held.slice(1)).map(
    (alternative) =>
      `// or${oauth ? ', with a credential you hold' : ''}:\n// const client = createClient({ auth: ${heldInput(slug, alternative)} });`,
  );
  return [snippet, ...others].join('\n');
}

function oauthSnippet(slug: string, doc: Json): string | undefined {
  const profile = doc['x-portico-auth'];
  const grants: string[] = profile.grants ?? [];
  if (!grants.length) return undefined;
  if (grants.includes('client_credentials')) {
    return `import { createClient } from '${packageName(slug)}';

const client = createClient({
  auth: { clientId: process.env.${envName(slug, 'CLIENT_ID')}!, clientSecret: process.env.${envName(slug, 'CLIENT_SECRET')}! },
});`;
  }
  if (grants.includes('authorization_code')) {
    const scope = doc.components?.securitySchemes?.[profile.securityScheme]?.flows?.authorizationCode?.scopes ?? {};
    const some = Object.keys(scope).slice(0, 2).map(str).join(', ');
    const base = profile.authorization?.url?.startsWith('/') ? `, baseUrl: 'https://auth.your-bank.example'` : '';
    return `import { createClient, oauth } from '${packageName(slug)}';

const flow = oauth({ clientId, clientSecret, redirectUri: 'https://app.example/callback'${base} });
const { url, state${profile.authorization?.pkce !== 'none' ? ', codeVerifier' : ''} } = await flow.authorizationUrl({ scope: [${some}] }); // send the user to url
const tokens = await flow.exchangeCode(callbackUrl, { state${profile.authorization?.pkce !== 'none' ? ', codeVerifier' : ''} }); // on your redirect URI
const client = createClient({ auth: flow.session(tokens, { onTokens: saveTokens }) });`;
  }
  const inputs: string[] = profile.token.grants.access_code_exchange?.inputs ?? [];
  return `import { createClient, exchangeToken } from '${packageName(slug)}';

const tokens = await exchangeToken({ ${inputs.join(', ')} });
const client = createClient({ auth: { accessToken: tokens.accessToken } });`;
}

/**
 * Signing in, then ending the grant at the revocation endpoint the profile
 * declares: the flow's `revoke`, or the package's `revokeGrant` beside a
 * token from an exchange. Undefined where the profile declares none.
 */
export function revocationSnippet(slug: string, doc: Json): string | undefined {
  const profile = doc['x-portico-auth'];
  if (!profile.revocation) return undefined;
  const ends = `// When the user disconnects: end the grant (${oneLine(`POST ${profile.revocation.url}`)}).`;
  if (profile.grants?.includes('authorization_code')) return `${authSnippet(slug, doc)}\n\n${ends}\nawait flow.revoke(tokens);`;
  const exchange: string[] = profile.token.grants.access_code_exchange?.inputs ?? [];
  const inputs: string[] = profile.revocation.inputs ?? [];
  return `import { exchangeToken, revokeGrant } from '${packageName(slug)}';

const tokens = await exchangeToken({ ${exchange.join(', ')} });
${ends}
await revokeGrant(tokens${inputs.length ? `, { ${inputs.join(', ')} }` : ''});`;
}

// "Testing your integration": a user's own vitest file against the provider's
// fake (@portico/mock), for the README and the docs site, from the same pieces
// as the first call and from what the mock says a client holds and a user
// brings, so the three never disagree.

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

/** "Testing your integration": a vitest file against the provider's fake, where @portico/mock serves the provider. */
function testingSection(slug: string, doc: Json): string {
  const snippet = testingSnippet(slug, doc);
  if (!snippet) return '';
  return `## Testing your integration

\`\`\`sh
npm install --save-dev @portico/mock vitest
\`\`\`

[\`@portico/mock\`](../mock/README.md) is this provider as a fake, built from the same spec: its auth as
the provider does it, answers valid against the spec's schemas, and faults on demand. No account, no
network: a test signs in and calls as your app does.

\`\`\`ts
${snippet}
\`\`\`

\`mock.controller\` also expires and revokes tokens, queues answers, fails any operation (5xx,
slow, hung, malformed, oversized) and keeps a log of the requests, credentials redacted.${doc['x-portico-webhook-signature'] ? '\nIt signs webhook deliveries as the provider does (`signWebhook`).' : ''}
\`mswHandlers(mock)\` from \`@portico/mock/msw\` answers at the provider's real URLs for MSW, and
\`npx @portico/cli mock ${slug}\` serves the fake to any language from the terminal.

`;
}

export function renderReadme(slug: string, doc: Json, pkg: Json): string {
  const ops = operations(doc);
  const info = doc.info;
  const summary =
    String(info.description ?? '')
      .split(/\n\s*\n/)[0]
      ?.trim() ?? '';
  return `<!-- Generated by tools/generate.ts from specs/${slug}/openapi.yaml. Do not edit. -->
# ${pkg.name}

Typed client for the **${oneLine(info.title)}** (API version ${oneLine(info.version)}), generated from ${isImported(doc) ? "the provider's published" : 'a hand-written'}
OpenAPI ${String(doc.openapi).split('.').slice(0, 2).join('.')} description by [Portico](../../README.md). ${ops.length} operations, full request and
response types, and the provider's auth handled for you.

${summary}

## Install

\`\`\`sh
npm install ${pkg.name}
\`\`\`

ESM only. Tested on Node.js 20.19+, 22, 24 and 26, Bun, Deno and Cloudflare Workers ([runtimes](../../README.md#runtimes));
CommonJS code can \`await import('${pkg.name}')\`.

## Authenticate and make a first call

\`\`\`ts
${authSnippet(slug, doc)}
${firstCall(doc)}
\`\`\`

Every operation returns \`{ data, error, response }\`: \`data\` typed by the spec's success
response, \`error\` by its error responses. Token errors are classes with a stable \`code\`
(\`OAuthError\`, \`ReauthorizationRequiredError\`, ...), exported from this package.

## Retries, errors and pagination

\`\`\`ts
${runtimeSnippet(slug, doc)}
\`\`\`

Errors thrown by the client all extend \`PorticoError\` and have a stable \`code\`: API errors per
status family (\`BadRequestError\`, \`AuthenticationError\`, \`PermissionDeniedError\`,
\`NotFoundError\`, \`ConflictError\`, \`RateLimitError\`, \`ServerError\`, \`EnvelopeError\`),
transport (\`ConnectionError\`, \`TimeoutError\`) and bodies that are not what the spec promises
(\`ResponseParseError\`, \`ResponseTooLargeError\`, \`ResponseValidationError\`). Pass a
\`logger\` (and \`logLevel\`) to see requests, retries and failures; headers, bodies and query
strings are never logged.

${testingSection(slug, doc)}## Reference

The API reference for every operation is built from the same spec: \`pnpm docs\` at the
repository root writes it to \`site/${slug}/index.html\`.

| method | path | operation |
| --- | --- | --- |
${ops.map(({ method, path, op }) => `| ${method.toUpperCase()} | \`${oneLine(path)}\` | ${oneLine([op.operationId, op.summary].filter(Boolean).join(': '))} |`).join('\n')}
`;
}
