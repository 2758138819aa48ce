import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parse, stringify } from 'yaml';
import { isImported, listProviders, loadSpec, ROOT, specPath } from '../lib/specs.ts';

const run = promisify(execFile);
const redocly = join(ROOT, 'node_modules/.bin/redocly');
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };

async function lint(target: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(redocly, ['lint', target, '--format=stylish', '--config', join(ROOT, 'redocly.yaml')], {
      cwd: ROOT,
      env,
    });
    return { ok: true, output: stdout + stderr };
  } catch (e: any) {
    return { ok: false, output: `${e.stdout}${e.stderr}` };
  }
}

/** Lints a copy of Dapi's spec changed by `change`, in a temp dir removed when the test ends. */
async function lintDapiWith(change: (doc: any) => void) {
  const doc = parse(readFileSync(specPath('dapi'), 'utf8'));
  change(doc);
  const dir = mkdtempSync(join(tmpdir(), 'portico-lint-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'openapi.yaml');
  writeFileSync(file, stringify(doc));
  return lint(file);
}

describe('spec lint (recommended-strict + repo rules)', () => {
  it.each(listProviders())('%s passes with no problems', async (slug) => {
    const { ok, output } = await lint(slug);
    expect(ok, output).toBe(true);
    // An imported spec keeps the warnings its provider's document carries (tools/redocly/imported.yaml says which) until it is promoted.
    if (!isImported(loadSpec(slug))) expect(output).not.toMatch(/^\s*\d+:\d+\s+warning/m);
  });

  it.each([
    ['userinfo', 'https://client:secret@auth.example/token'],
    ['a scheme-relative URL, another host', '//evil.example/token'],
    ['a backslash, which WHATWG URL reads as a slash', '/\\evil.example/token'],
    ['whitespace', '/ //evil.example/token'],
  ])('refuses a token URL with %s (found by the review of the import)', async (_, url) => {
    const { ok, output } = await lintDapiWith((doc) => {
      doc['x-portico-auth'].token.url = url;
    });
    expect(ok).toBe(false);
    expect(output).toContain('x-portico-auth/token/url');
  });

  it('rejects an auth profile that does not match its JSON Schema, naming the field', async () => {
    const { ok, output } = await lintDapiWith((doc) => {
      doc['x-portico-auth'].token.bodyFormat = 'xml';
      delete doc.paths['/auth/ExchangeToken'].post.security;
    });
    expect(ok).toBe(false);
    expect(output).toContain('x-portico-auth/token/bodyFormat');
    expect(output).toContain('portico/operation-security');
  });
});

// x-portico-auth credentials, each error of tools/lib/credential-rules.js and
// the schema through the real lint: a small document with exactly the security
// schemes the case names (an unused one is a lint error of its own), every one
// required by its operation, so each bad profile fails with its message alone.
const SCHEMES: Record<string, object> = {
  Id: { type: 'apiKey', in: 'header', name: 'X-Client-Id', description: 'The client id.' },
  Secret: { type: 'apiKey', in: 'header', name: 'X-Client-Secret', description: 'The client secret.' },
  Bot: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'A bot token: Authorization: Bot <token>.' },
  QueryKey: { type: 'apiKey', in: 'query', name: 'key', description: 'A key in the query.' },
  Session: { type: 'apiKey', in: 'cookie', name: 'session', description: 'A session cookie.' },
  HostKey: { type: 'apiKey', in: 'header', name: 'Host', description: 'A key in a header fetch sets itself.' },
  Basic: { type: 'http', scheme: 'basic', description: 'Username and password.' },
  Token: { type: 'http', scheme: 'bearer', description: 'A personal access token.' },
  OAuth: {
    type: 'oauth2',
    description: 'OAuth client credentials.',
    flows: { clientCredentials: { tokenUrl: 'https://api.gadgets.example/oauth/token', scopes: {} } },
  },
};
/** A client-credentials profile that lints clean on the OAuth scheme. */
const OAUTH = {
  securityScheme: 'OAuth',
  grants: ['client_credentials'],
  token: {
    url: 'https://api.gadgets.example/oauth/token',
    clientAuthentication: 'client_secret_basic',
    bodyFormat: 'form',
    grants: { client_credentials: { parameters: { grant_type: 'client_credentials' } } },
    response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in' },
    error: { code: '/error', description: '/error_description' },
  },
  apply: { header: 'Authorization', scheme: 'Bearer' },
};

function gadgets(profile: object, schemes: string[]): object {
  const body = (message: string) => ({
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' }, example: { message } } },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Gadgets API', version: '1', description: 'A throwaway API.', license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: 'https://api.gadgets.example/v1', description: 'Production.' }],
    tags: [{ name: 'Gadgets', description: 'Gadgets.' }],
    security: [],
    'x-portico-auth': profile,
    paths: {
      '/gadgets': {
        get: {
          operationId: 'listGadgets',
          summary: 'List gadgets',
          description: 'Every gadget.',
          tags: ['Gadgets'],
          security: schemes.map((name) => ({ [name]: [] })),
          responses: { '200': { description: 'The gadgets.', ...body('ok') }, '401': { description: 'Not authenticated.', ...body('no') } },
        },
      },
    },
    components: {
      securitySchemes: Object.fromEntries(schemes.map((name) => [name, SCHEMES[name]])),
      schemas: { Message: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } },
    },
  };
}

/**
 * Every problem lint finds in each document, as `rule: message`, from one
 * redocly run over all of them (it prints one JSON report per file, back to back).
 */
async function problems(docs: object[]): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-lint-credentials-'));
  try {
    const files = docs.map((doc, i) => {
      writeFileSync(join(dir, `case-${i}.yaml`), stringify(doc));
      return join(dir, `case-${i}.yaml`);
    });
    const out = await run(redocly, ['lint', ...files, '--format=json', '--config', join(ROOT, 'redocly.yaml')], { cwd: ROOT, env }).then(
      ({ stdout }) => stdout,
      (e: { stdout: string }) => e.stdout,
    );
    type Report = { problems: { ruleId: string; message: string; location: { source: { ref: string } }[] }[] };
    const reports = JSON.parse(`[${out.replace(/\}\s*\{(?=\s*"totals")/g, '},{')}]`) as Report[];
    expect(reports).toHaveLength(docs.length);
    const found = docs.map((): string[] => []);
    for (const p of reports.flatMap((r) => r.problems))
      found[Number(/case-(\d+)\.yaml$/.exec(p.location[0]!.source.ref)![1])]!.push(`${p.ruleId}: ${p.message}`);
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PROFILE = 'portico/auth-profile';
const SCHEMA = 'portico/auth-profile: x-portico-auth';

const REFUSED: [string, object, string[], string | string[]][] = [
  [
    'an unknown scheme in credentials',
    { credentials: [{ Id: {} }, { Nope: {} }] },
    ['Id'],
    `${PROFILE}: x-portico-auth names the security scheme \`Nope\`, which is not in components.securitySchemes.`,
  ],
  [
    'apply on an apiKey scheme (the prefix goes under credentials)',
    { securityScheme: 'Bot', apply: { header: 'Authorization', scheme: 'Bot' } },
    ['Bot'],
    `${PROFILE}: x-portico-auth.apply does not go with an apiKey scheme: its \`in\` and \`name\` say where the key goes (a prefix such as \`Bot\` goes under \`credentials\`: \`- <scheme>: { prefix: Bot }\`).`,
  ],
  [
    'apply on an http basic scheme',
    { securityScheme: 'Basic', apply: { header: 'Authorization', scheme: 'Basic' } },
    ['Basic'],
    `${PROFILE}: x-portico-auth.apply does not go with an http basic scheme.`,
  ],
  [
    'a prefix on a query apiKey',
    { credentials: [{ QueryKey: { prefix: 'Bot' } }] },
    ['QueryKey'],
    `${PROFILE}: security scheme \`QueryKey\` sends its key in the query: a prefix goes only before a header's value.`,
  ],
  [
    'a prefix on a cookie apiKey',
    { credentials: [{ Session: { prefix: 'Bot' } }] },
    ['Session'],
    `${PROFILE}: security scheme \`Session\` sends its key in the cookie: a prefix goes only before a header's value.`,
  ],
  [
    'basic with an input',
    { credentials: [{ Basic: { input: 'login' } }] },
    ['Basic'],
    `${PROFILE}: security scheme \`Basic\` (http basic) always takes \`username\` and \`password\`: no input or prefix.`,
  ],
  [
    'basic with a prefix',
    { credentials: [{ Basic: { prefix: 'Basic' } }] },
    ['Basic'],
    `${PROFILE}: security scheme \`Basic\` (http basic) always takes \`username\` and \`password\`: no input or prefix.`,
  ],
  [
    'two apiKeys of one alternative on the default field',
    { credentials: [{ Id: {}, Secret: {} }] },
    ['Id', 'Secret'],
    `${PROFILE}: x-portico-auth.credentials: one alternative takes the field \`apiKey\` twice; give its schemes an \`input\` each.`,
  ],
  [
    'an apiKey input named like a basic field in the same alternative',
    { credentials: [{ Basic: {}, Id: { input: 'password' } }] },
    ['Basic', 'Id'],
    `${PROFILE}: x-portico-auth.credentials: one alternative takes the field \`password\` twice; give its schemes an \`input\` each.`,
  ],
  [
    'a held bearer token on the default accessToken field beside grants',
    { ...OAUTH, credentials: [{ Token: {} }] },
    ['OAuth', 'Token'],
    `${PROFILE}: x-portico-auth.credentials: \`accessToken\` is an OAuth input of createClient; give the scheme another \`input\`.`,
  ],
  [
    'a held key on clientId beside grants',
    { ...OAUTH, credentials: [{ Id: { input: 'clientId' } }] },
    ['Id', 'OAuth'],
    `${PROFILE}: x-portico-auth.credentials: \`clientId\` is an OAuth input of createClient; give the scheme another \`input\`.`,
  ],
  [
    'a held key on clientSecret beside grants',
    { ...OAUTH, credentials: [{ Secret: { input: 'clientSecret' } }] },
    ['OAuth', 'Secret'],
    `${PROFILE}: x-portico-auth.credentials: \`clientSecret\` is an OAuth input of createClient; give the scheme another \`input\`.`,
  ],
  [
    'two alternatives with the same field',
    { credentials: [{ Id: {} }, { QueryKey: {} }] },
    ['Id', 'QueryKey'],
    `${PROFILE}: x-portico-auth.credentials: two alternatives take the same fields (apiKey); give one's schemes an \`input\`.`,
  ],
  [
    'two alternatives with the same field set in another order',
    {
      credentials: [
        { Id: { input: 'b' }, Secret: { input: 'a' } },
        { QueryKey: { input: 'a' }, Session: { input: 'b' } },
      ],
    },
    ['Id', 'QueryKey', 'Secret', 'Session'],
    `${PROFILE}: x-portico-auth.credentials: two alternatives take the same fields (a,b); give one's schemes an \`input\`.`,
  ],
  [
    'the OAuth scheme of the grants inside credentials',
    { ...OAUTH, credentials: [{ OAuth: {} }] },
    ['OAuth'],
    `${PROFILE}: x-portico-auth.credentials names \`OAuth\`, the OAuth scheme the grants are for.`,
  ],
  [
    'an OAuth scheme held without grants',
    { credentials: [{ OAuth: {} }] },
    ['OAuth'],
    `${PROFILE}: a credential the user holds needs an apiKey, http basic or http bearer scheme; \`OAuth\` is oauth2 (add grants for OAuth).`,
  ],
  [
    'an API key in a header fetch sets itself (found by the review of the import)',
    { credentials: [{ HostKey: {} }] },
    ['HostKey'],
    `${PROFILE}: security scheme \`HostKey\` sends its key in the \`Host\` header, which fetch sets itself: a key cannot go there.`,
  ],
  [
    'a constant header that is a held apiKey header, in another case',
    { credentials: [{ Id: { input: 'id' }, Secret: { input: 'secret' } }], headers: { 'x-client-secret': 's' } },
    ['Id', 'Secret'],
    `${PROFILE}: x-portico-auth.headers: \`x-client-secret\` carries a credential; a constant header cannot be one.`,
  ],
  [
    "a constant header that is another alternative's bearer header",
    { credentials: [{ Id: {} }, { Token: {} }], headers: { Authorization: 'Bearer x' } },
    ['Id', 'Token'],
    `${PROFILE}: x-portico-auth.headers: \`Authorization\` carries a credential; a constant header cannot be one.`,
  ],
  [
    "a constant header that is the short form bearer token's own header",
    { securityScheme: 'Token', apply: { header: 'X-Api-Token', scheme: '' }, headers: { 'X-Api-Token': 'x' } },
    ['Token'],
    `${PROFILE}: x-portico-auth.headers: \`X-Api-Token\` carries a credential; a constant header cannot be one.`,
  ],
  [
    "a constant header that is the OAuth profile's held key header",
    { ...OAUTH, credentials: [{ Id: { input: 'personalKey' } }], headers: { 'X-Client-Id': 'x' } },
    ['Id', 'OAuth'],
    `${PROFILE}: x-portico-auth.headers: \`X-Client-Id\` carries a credential; a constant header cannot be one.`,
  ],
  // Each of these fails every request (undici refuses it, or a fixed Content-Length hangs a body until the timeout).
  ...[
    'Authorization',
    'Proxy-Authorization',
    'Cookie',
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Keep-Alive',
    'Upgrade',
    'Expect',
  ].map((header): [string, object, string[], string | string[]] => [
    `a constant ${header} header (reserved)`,
    { credentials: [{ QueryKey: {} }], headers: { [header]: '1' } },
    ['QueryKey'],
    `${PROFILE}: x-portico-auth.headers: \`${header}\` carries a credential; a constant header cannot be one.`,
  ]),
  [
    'a constant header value with CR LF',
    { credentials: [{ Id: {} }], headers: { 'Gadgets-Version': '1\r\nX-Injected: 1' } },
    ['Id'],
    `${SCHEMA}/headers/Gadgets-Version must match pattern "^[^\\r\\n\\u0000]*$"`,
  ],
  [
    'a constant header value with a lone LF',
    { credentials: [{ Id: {} }], headers: { 'Gadgets-Version': '1\nX-Injected: 1' } },
    ['Id'],
    `${SCHEMA}/headers/Gadgets-Version must match pattern "^[^\\r\\n\\u0000]*$"`,
  ],
  [
    'a constant header name that is not a token',
    { credentials: [{ Id: {} }], headers: { 'Gadgets Version': '1' } },
    ['Id'],
    [`${SCHEMA}/headers must match pattern "^[!#$%&'*+.^_\`|~0-9A-Za-z-]+$"`, `${SCHEMA}/headers property name must be valid`],
  ],
  [
    'securityScheme beside credentials without grants',
    { securityScheme: 'Id', credentials: [{ Id: {} }] },
    ['Id'],
    `${PROFILE}: x-portico-auth.securityScheme names the OAuth scheme of \`grants\`; without grants, list every credential under \`credentials\`.`,
  ],
  [
    'neither securityScheme nor credentials',
    { headers: { 'Gadgets-Version': '1' } },
    ['Id'],
    [
      `${SCHEMA} must have required property 'securityScheme'`,
      `${SCHEMA} must have required property 'credentials'`,
      `${SCHEMA} must match a schema in anyOf`,
    ],
  ],
  [
    'grants with held credentials but without the OAuth securityScheme',
    { ...(({ securityScheme: _, ...rest }) => rest)(OAUTH), credentials: [{ Id: { input: 'personalToken' } }] },
    ['Id', 'OAuth'],
    `${SCHEMA} must have properties token, apply, securityScheme when property grants is present`,
  ],
  ['an empty alternative', { credentials: [{ Id: {} }, {}] }, ['Id'], `${SCHEMA}/credentials/1 must NOT have fewer than 1 properties`],
  [
    'an input that is not an identifier',
    { credentials: [{ Id: { input: 'client-id' } }] },
    ['Id'],
    `${SCHEMA}/credentials/0/Id/input must match pattern "^[A-Za-z_$][A-Za-z0-9_$]*$"`,
  ],
];

const CLEAN: [string, object, string[]][] = [
  ['the short form: an apiKey header', { securityScheme: 'Id' }, ['Id']],
  ['the short form: a query apiKey', { securityScheme: 'QueryKey' }, ['QueryKey']],
  ['the short form: http basic', { securityScheme: 'Basic' }, ['Basic']],
  ['the short form with a constant version header', { securityScheme: 'Id', headers: { 'Gadgets-Version': '2024-01-01' } }, ['Id']],
  [
    'the short form: a bearer token with apply',
    { securityScheme: 'Token', apply: { header: 'Authorization', scheme: 'token' } },
    ['Token'],
  ],
  [
    'two header apiKeys sent together, or basic, with a version header',
    {
      credentials: [{ Id: { input: 'clientId' }, Secret: { input: 'clientSecret' } }, { Basic: {} }],
      headers: { 'Gadgets-Version': '2024-01-01' },
    },
    ['Basic', 'Id', 'Secret'],
  ],
  ['a prefixed header apiKey (Authorization: Bot <token>)', { credentials: [{ Bot: { prefix: 'Bot', input: 'botToken' } }] }, ['Bot']],
  [
    'a header and a query key sent together, or a cookie',
    { credentials: [{ Id: { input: 'id' }, QueryKey: { input: 'signature' } }, { Session: {} }] },
    ['Id', 'QueryKey', 'Session'],
  ],
  ['a bearer token with a prefix of its own', { credentials: [{ Token: { prefix: 'token', input: 'pat' } }] }, ['Token']],
  [
    'a constant header named like a query key (only headers collide)',
    { credentials: [{ QueryKey: {} }], headers: { key: 'constant' } },
    ['QueryKey'],
  ],
  [
    'OAuth grants and a held personal token',
    { ...OAUTH, credentials: [{ Id: { input: 'personalToken' } }], headers: { 'Gadgets-Version': '2' } },
    ['Id', 'OAuth'],
  ],
];

describe('x-portico-auth credentials: lint refuses what the runtime could not send', () => {
  const CASES = [...REFUSED, ...CLEAN];
  let found: string[][];
  beforeAll(async () => {
    found = await problems(CASES.map(([, profile, schemes]) => gadgets(profile, schemes)));
  });

  it.each(REFUSED.map((c, i) => [...c, i] as const))('%s', (_, _profile, _schemes, message, i) => {
    expect(found[i]).toEqual(typeof message === 'string' ? [message] : message);
  });

  it.each(CLEAN.map((c, i) => [...c, REFUSED.length + i] as const))('lints clean: %s', (_, _profile, _schemes, i) => {
    expect(found[i]).toEqual([]);
  });
});
