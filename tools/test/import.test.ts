// `pnpm new-provider <slug> --from <path or URL>` (tools/lib/import.ts): the
// x-portico-auth derived from each shape of security a published document
// has, the file written (YAML keeps its comments, JSON stays JSON), reading
// from a file or a loopback HTTP server within a time and size bound, the
// one-line error and the untouched tree for each bad input, and whole imports
// in a scratch tree (PORTICO_ROOT) that lint, generate, build and then send
// the credential on the wire. The fixtures are small documents written for
// this test in tools/test/fixtures/import/, shaped like the published ones.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument, stringify } from 'yaml';
import { parseBasic } from '../../packages/testing/src/http.ts';
import { heldCredentials } from '../lib/credential-rules.js';
import { deriveAuth, ImportError, importedText, importMarker, importWarnings, parseSource, printable, readSource } from '../lib/import.ts';
import { defaultServerUrl, IMPORTED_RULES, type Json, ROOT } from '../lib/specs.ts';
import { bin, env, linkWorkspace, newProvider, run, scratchTree } from './scratch-tree.ts';
import { typecheck } from './typecheck.ts';

const FIXTURES = join(ROOT, 'tools/test/fixtures/import');
const fixturePath = (name: string) => join(FIXTURES, name);
const fixture = (name: string) => parseSource(name, readFileSync(fixturePath(name)));
const validateProfile = new Ajv2020({ allErrors: true, strict: false }).compile(
  JSON.parse(readFileSync(join(ROOT, 'tools/schema/x-portico-auth.schema.json'), 'utf8')),
);

/** The profile is valid by the schema and by the credential rules lint and the generator apply. */
function expectSendable(doc: Json, profile: Json): void {
  expect(validateProfile(profile), JSON.stringify(validateProfile.errors)).toBe(true);
  expect(heldCredentials({ ...doc, 'x-portico-auth': profile })).not.toEqual(expect.any(String));
}

describe('deriveAuth: x-portico-auth from the security schemes', () => {
  it('client credentials with a relative token URL: grants, the URL as the document has it, no scope asked for; openIdConnect left out', () => {
    const { doc } = fixture('orders-3.0.yaml');
    const { profile, uncovered, leftOut } = deriveAuth(doc, 'orders');
    expect(profile).toMatchObject({
      securityScheme: 'Oauth2',
      grants: ['client_credentials'],
      token: {
        url: '/v1/oauth2/token',
        clientAuthentication: 'client_secret_basic',
        bodyFormat: 'form',
        grants: { client_credentials: { parameters: { grant_type: 'client_credentials', scope: '{scope}' } } },
        response: { accessToken: '/access_token', tokenType: '/token_type', scope: '/scope', expiresIn: '/expires_in' },
      },
      scope: { separator: ' ' },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    });
    // RFC 6749 §3.3: the server's default scope, not every scope the flow lists.
    expect(profile.scope.default).toBeUndefined();
    expect(profile).not.toHaveProperty('authorization');
    expect(profile).not.toHaveProperty('refresh');
    expect(profile).not.toHaveProperty('credentials');
    expect(profile.description).toMatch(/^Unconfirmed: /);
    expect(profile.description).toContain('https://uri.orders.example/services/refunds');
    // The server has no path: where the runtime sends it is where RFC 3986 would.
    expect(profile.description).not.toContain('is relative');
    expect(leftOut).toEqual(['Oidc: openIdConnect (not sent by Portico)']);
    expect(uncovered).toEqual(['GET /v2/sso (sso): Oidc']);
    expectSendable(doc, profile);
  });

  it('a relative token URL is resolved by RFC 3986 against the server URL, as OpenAPI says, and kept a path where the runtime reads it the same', () => {
    const { doc } = fixture('orders-3.0.yaml');
    const tokenUrl = (server: string, written: string) => {
      doc.servers = [{ url: server }];
      doc.components.securitySchemes.Oauth2.flows.clientCredentials.tokenUrl = written;
      return deriveAuth(doc, 'orders').profile.token.url;
    };
    // An absolute path replaces the server's path: the runtime would append it, so it is written whole.
    expect(tokenUrl('https://api.orders.example/api/', '/v1/oauth2/token')).toBe('https://api.orders.example/v1/oauth2/token');
    // Under the server's path, a path the runtime appends to a client's own baseUrl (a sandbox) too.
    expect(tokenUrl('https://api.orders.example/api/', 'oauth2/token')).toBe('/oauth2/token');
    expect(tokenUrl('https://api.orders.example/api', '/api/oauth2/token')).toBe('/oauth2/token');
    expect(tokenUrl('https://{region}.orders.example/api/', 'token')).toBe('/token');
    // Another host, even written relative to the scheme, is written whole for the user to see.
    expect(tokenUrl('https://api.orders.example/api/', '//login.orders.example/token')).toBe('https://login.orders.example/token');
    expect(deriveAuth(doc, 'orders').profile.description).not.toContain('is relative');
  });

  it('an OAuth URL with a backslash, whitespace, a control character or user info is refused, naming the scheme and the field', () => {
    const { doc } = fixture('orders-3.0.yaml');
    const flow = doc.components.securitySchemes.Oauth2.flows.clientCredentials;
    for (const written of [
      '\\\\evil.example\\token',
      '/v1\\oauth2/token',
      'https://api.orders.example/oauth2/ token',
      'https://api.orders.example/oauth2/token\u00a0',
      'https://api.orders.example/\u001b[2Ktoken',
      'https://api.orders.example/\u009btoken',
      'https://api.orders.example@evil.example/token',
      '//user:pw@api.orders.example/token',
    ]) {
      flow.tokenUrl = written;
      expect(() => deriveAuth(doc, 'orders'), written).toThrow(ImportError);
      expect(() => deriveAuth(doc, 'orders'), written).toThrow(
        /^Oauth2's flows\.clientCredentials\.tokenUrl is ".*", with (a backslash, whitespace or a control character|user info \(`user@`\) in it): not a URL to send credentials to$/,
      );
    }
    const gadgets = fixture('gadgets-3.1.json').doc;
    gadgets.components.securitySchemes.OAuth2.flows.authorizationCode.refreshUrl = 'https://api.gadgets.example/\trefresh';
    expect(() => deriveAuth(gadgets, 'gadgets')).toThrow(
      /^OAuth2's flows\.authorizationCode\.refreshUrl is "https:\/\/api\.gadgets\.example\/\\trefresh", with a backslash/,
    );
    // Another host, in plain characters, is the user's to check: written whole (and announced by new-provider).
    flow.tokenUrl = '//login.orders.example/token';
    expect(deriveAuth(doc, 'orders').profile.token.url).toBe('https://login.orders.example/token');
  });

  it('authorization code (the oauth2 scheme most operations name alone) and a personal token beside it; a second oauth2 scheme left out', () => {
    const { doc } = fixture('gadgets-3.1.json');
    const { profile, uncovered, leftOut } = deriveAuth(doc, 'gadgets');
    expect(profile).toMatchObject({
      securityScheme: 'OAuth2',
      grants: ['authorization_code', 'refresh_token'],
      authorization: {
        url: 'https://www.gadgets.example/oauth',
        pkce: 'supported',
        state: 'recommended',
        parameters: { response_type: 'code', code_challenge: '{codeChallenge}', code_challenge_method: 'S256' },
      },
      token: {
        url: 'https://api.gadgets.example/v1/oauth/token',
        grants: {
          authorization_code: { parameters: { grant_type: 'authorization_code', code: '{code}', code_verifier: '{codeVerifier}' } },
          refresh_token: { url: 'https://api.gadgets.example/v1/oauth/refresh', parameters: { grant_type: 'refresh_token' } },
        },
        response: { refreshToken: '/refresh_token' },
      },
      refresh: { rotation: 'optional' },
      credentials: [{ PersonalToken: {} }],
    });
    expect(profile.token.grants).not.toHaveProperty('client_credentials');
    expect(profile.description).toMatch(
      /^Unconfirmed: .*PKCE supported, not required.*Also accepted: PersonalToken \(apiKey in header X-Gadget-Token\)\.$/,
    );
    expect(leftOut).toEqual(["OrgOAuth2: a second oauth2 scheme (the profile is OAuth2's)"]);
    expect(uncovered).toEqual(['GET /activity (getActivity): OrgOAuth2']);
    expectSendable(doc, profile);
  });

  it("the document's own token operation: its operationId, and client_secret_post when its body takes the client secret", () => {
    const { doc } = fixture('gadgets-3.1.json');
    const body = (properties: string[]) => ({
      content: {
        'application/x-www-form-urlencoded': {
          schema: { type: 'object', properties: Object.fromEntries(properties.map((p) => [p, { type: 'string' }])) },
        },
      },
    });
    // The same URL described again under a `#` path (as Box does) is not the endpoint.
    doc.paths['/oauth/token#refresh'] = { post: { operationId: 'refreshToken', security: [], requestBody: body(['grant_type']) } };
    doc.paths['/oauth/token'] = {
      post: { operationId: 'getToken', security: [], requestBody: body(['grant_type', 'code', 'client_id', 'client_secret']) },
    };
    const { profile } = deriveAuth(doc, 'gadgets');
    expect(profile.token).toMatchObject({ operationId: 'getToken', clientAuthentication: 'client_secret_post', bodyFormat: 'form' });
    expect(profile.description).toContain(
      'and its token operation `getToken` (a form body taking client_id and client_secret: client_secret_post)',
    );
    expect(profile.description).not.toContain('client_secret_basic');
    expectSendable(doc, profile);

    doc.paths['/oauth/token'].post.requestBody = {
      content: { 'application/json': { schema: { type: 'object', properties: { code: {} } } } },
    };
    expect(deriveAuth(doc, 'gadgets').profile.token).toMatchObject({
      operationId: 'getToken',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'json',
    });
    // A relative token URL is matched on the first server, as the runtime resolves it.
    const orders = fixture('orders-3.0.yaml').doc;
    orders.paths['/v1/oauth2/token'] = { post: { operationId: 'token', security: [], requestBody: body(['client_id', 'client_secret']) } };
    expect(deriveAuth(orders, 'orders').profile.token).toMatchObject({ operationId: 'token', clientAuthentication: 'client_secret_post' });
  });

  it('a refresh URL equal to the token URL is not repeated', () => {
    const { doc } = fixture('gadgets-3.1.json');
    const flow = doc.components.securitySchemes.OAuth2.flows.authorizationCode;
    flow.refreshUrl = flow.tokenUrl;
    expect(deriveAuth(doc, 'gadgets').profile.token.grants.refresh_token).not.toHaveProperty('url');
  });

  it('Basic or an API key as alternatives; two headers sent together as one, each with its own input; mutualTLS left out', () => {
    const { doc } = fixture('payments-3.1.yaml');
    const { profile, uncovered, leftOut } = deriveAuth(doc, 'payments');
    expect(profile.credentials).toEqual([
      { BasicAuth: {} },
      { ApiKeyAuth: {} },
      { ReportKeyId: { input: 'reportKeyId' }, ReportKeySecret: { input: 'reportKeySecret' } },
    ]);
    expect(profile).not.toHaveProperty('securityScheme');
    expect(profile).not.toHaveProperty('grants');
    expect(profile.description).toContain('`ReportKeyId` is passed as `reportKeyId`.');
    expect(leftOut).toEqual(['TerminalTls: mutualTLS (not sent by Portico)']);
    expect(uncovered).toEqual(['GET /terminals (get-terminals): TerminalTls']);
    expectSendable(doc, profile);
  });

  it('one bearer scheme for the whole document: the short form', () => {
    const { doc } = fixture('mail-3.0.yaml');
    const { profile, uncovered, leftOut } = deriveAuth(doc, 'mail');
    expect(profile).toEqual({
      description: "From the document's security scheme: bearerAuth (http bearer).",
      securityScheme: 'bearerAuth',
    });
    expect([uncovered, leftOut]).toEqual([[], []]);
    expectSendable(doc, profile);
  });

  it("a bearer token beside grants takes its own input (accessToken is OAuth's)", () => {
    const { doc } = fixture('gadgets-3.1.json');
    doc.components.securitySchemes.PersonalToken = { type: 'http', scheme: 'bearer' };
    const { profile } = deriveAuth(doc, 'gadgets');
    expect(profile.credentials).toEqual([{ PersonalToken: { input: 'personalToken' } }]);
    expectSendable(doc, profile);
  });

  it('alternatives are ordered by how many operations take them; the document-wide list orders ties only', () => {
    const { doc } = fixture('payments-3.1.yaml');
    const pair = { ReportKeyId: [], ReportKeySecret: [] };
    doc.paths['/terminals'].get.security = [pair];
    doc.paths['/shopper'].post.security = [pair];
    expect(deriveAuth(doc, 'payments').profile.credentials.map(Object.keys)).toEqual([
      ['ReportKeyId', 'ReportKeySecret'],
      ['BasicAuth'],
      ['ApiKeyAuth'],
    ]);
    // ApiKeyAuth: first in the document's list, but one operation (/shopper, which inherits it) against Basic's two.
    const inherited = fixture('payments-3.1.yaml').doc;
    inherited.security = [{ ApiKeyAuth: [] }];
    for (const path of ['/payments', '/refunds']) inherited.paths[path].post.security = [{ BasicAuth: [] }];
    expect(deriveAuth(inherited, 'payments').profile.credentials.map(Object.keys)).toEqual([
      ['BasicAuth'],
      ['ApiKeyAuth'],
      ['ReportKeyId', 'ReportKeySecret'],
    ]);
  });

  it('one alternative of two schemes is no short form; a second Basic scheme is left out, never renamed', () => {
    const { doc } = fixture('payments-3.1.yaml');
    for (const path of Object.values<Json>(doc.paths))
      for (const op of Object.values<Json>(path)) op.security = [{ ReportKeyId: [], ReportKeySecret: [] }];
    const { profile } = deriveAuth(doc, 'payments');
    expect(profile).not.toHaveProperty('securityScheme');
    expect(profile.credentials).toEqual([{ ReportKeyId: { input: 'reportKeyId' }, ReportKeySecret: { input: 'reportKeySecret' } }]);
    expectSendable(doc, profile);

    const basic = fixture('payments-3.1.yaml').doc;
    basic.components.securitySchemes.PartnerBasic = { type: 'http', scheme: 'basic' };
    basic.paths['/terminals'].get.security = [{ PartnerBasic: [] }];
    const derived = deriveAuth(basic, 'payments');
    expect(derived.profile.credentials.map(Object.keys)).toEqual([['BasicAuth'], ['ApiKeyAuth'], ['ReportKeyId', 'ReportKeySecret']]);
    expect(derived.leftOut).toContain('PartnerBasic: takes the same createClient fields as BasicAuth');
    expectSendable(basic, derived.profile);
  });

  it('an oauth2 scheme named only beside another scheme is not the profile', () => {
    const { doc } = fixture('gadgets-3.1.json');
    for (const path of ['/me', '/files/{key}']) doc.paths[path].get.security = [{ OAuth2: [], PersonalToken: [] }];
    const { profile, leftOut } = deriveAuth(doc, 'gadgets');
    expect(profile.securityScheme).toBe('OrgOAuth2');
    expect(leftOut).toContain('OAuth2: an oauth2 scheme named only beside other schemes');
  });

  it('both flows on one scheme: every grant, and the client credentials token URL where it differs', () => {
    const { doc } = fixture('gadgets-3.1.json');
    const flows = doc.components.securitySchemes.OAuth2.flows;
    flows.clientCredentials = { tokenUrl: 'https://api.gadgets.example/v1/oauth/client-token', scopes: {} };
    const { profile } = deriveAuth(doc, 'gadgets');
    expect(profile.grants).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(profile.token.grants.client_credentials.url).toBe('https://api.gadgets.example/v1/oauth/client-token');
    expectSendable(doc, profile);
    flows.clientCredentials.tokenUrl = flows.authorizationCode.tokenUrl;
    expect(deriveAuth(doc, 'gadgets').profile.token.grants.client_credentials).not.toHaveProperty('url');
  });

  it('a token URL relative without a leading slash is written as a path', () => {
    const { doc } = fixture('orders-3.0.yaml');
    doc.components.securitySchemes.Oauth2.flows.clientCredentials.tokenUrl = './v1/oauth2/token';
    expect(deriveAuth(doc, 'orders').profile.token.url).toBe('/v1/oauth2/token');
  });

  it('nothing Portico can send: an ImportError saying what each scheme is', () => {
    const { doc } = fixture('orders-3.0.yaml');
    delete doc.components.securitySchemes.Oauth2;
    for (const path of Object.values<Json>(doc.paths)) for (const op of Object.values<Json>(path)) op.security = [{ Oidc: [] }];
    expect(() => deriveAuth(doc, 'orders')).toThrow(ImportError);
    expect(() => deriveAuth(doc, 'orders')).toThrow(
      /^no security scheme Portico can send \(Oidc: openIdConnect \(not sent by Portico\)\): write x-portico-auth in specs\/orders\/openapi.yaml by hand/,
    );
    // An oauth2 scheme without a token URL is no profile either: what is left is the personal token.
    const gadgets = fixture('gadgets-3.1.json').doc;
    for (const name of ['OAuth2', 'OrgOAuth2']) delete gadgets.components.securitySchemes[name].flows.authorizationCode.tokenUrl;
    const { profile, leftOut } = deriveAuth(gadgets, 'gadgets');
    expect(profile).toEqual({
      description: "From the document's security scheme: PersonalToken (apiKey in header X-Gadget-Token).",
      securityScheme: 'PersonalToken',
    });
    expect(leftOut).toContain(
      'OAuth2: oauth2 with authorizationCode flows (none is an authorizationCode or clientCredentials flow with its URLs)',
    );
  });
});

describe('the imported rule set', () => {
  it('names every house rule of redocly.yaml (the root rules reach an API with its own extends)', () => {
    const house = Object.keys(parse(readFileSync(join(ROOT, 'redocly.yaml'), 'utf8')).rules);
    const imported = parse(readFileSync(join(ROOT, IMPORTED_RULES), 'utf8')).rules;
    expect(house.filter((rule) => !(rule in imported))).toEqual([]);
    // Kept: what the generator and @portico/auth read.
    expect(house.filter((rule) => imported[rule] !== 'off')).toEqual(['portico/auth-profile', 'portico/operation-extensions']);
  });
});

describe('importedText: the file written', () => {
  const marker = { source: 'orders-3.0.yaml', sha256: '0'.repeat(64) };

  it('YAML: the original text, comments and layout included, with the marker and profile after info', () => {
    const parsed = fixture('orders-3.0.yaml');
    const profile = deriveAuth(parsed.doc, 'orders').profile;
    const out = importedText(parsed, marker, profile);
    const added = stringify({ 'x-portico-imported': marker, 'x-portico-auth': profile });
    expect(out.replace(added, '')).toBe(parsed.text);
    // Before the comment that leads into `servers`, not between them.
    expect(out).toContain(`${added}# The server has no path`);
    const doc = parse(out);
    expect(Object.keys(doc).slice(0, 5)).toEqual(['openapi', 'info', 'x-portico-imported', 'x-portico-auth', 'servers']);
    expect(doc['x-portico-auth']).toEqual(profile);
    expect(doc['x-portico-imported']).toEqual(marker);
  });

  it('JSON stays JSON, with its own indentation, every other key as it was', () => {
    const parsed = fixture('gadgets-3.1.json');
    const profile = deriveAuth(parsed.doc, 'gadgets').profile;
    const out = importedText(parsed, marker, profile);
    expect(out).toBe(`${JSON.stringify(JSON.parse(out), null, 2)}\n`);
    for (const indent of ['    ', '\t']) {
      const text = JSON.stringify(parsed.doc, null, indent);
      expect(importedText({ ...parsed, text }, marker, profile)).toBe(`${JSON.stringify(JSON.parse(out), null, indent)}\n`);
    }
    const doc = JSON.parse(out);
    expect(Object.keys(doc)).toEqual(['openapi', 'info', 'x-portico-imported', 'x-portico-auth', 'servers', 'paths', 'components']);
    const { 'x-portico-imported': m, 'x-portico-auth': p, ...rest } = doc;
    expect([m, p, rest]).toEqual([marker, profile, parsed.doc]);
  });

  it('a document with its own x-portico-auth keeps it; a re-import replaces the marker', () => {
    const parsed = fixture('mail-3.0.yaml');
    const own = { description: 'Its own.', securityScheme: 'bearerAuth' };
    const withOwn = parseSource('mail', Buffer.from(importedText(parsed, marker, own)));
    const again = parse(importedText(withOwn, { ...marker, sha256: '1'.repeat(64) }, undefined));
    expect(again['x-portico-auth']).toEqual(own);
    expect(again['x-portico-imported'].sha256).toBe('1'.repeat(64));
  });

  it('the marker: the source and the SHA-256 of the bytes read', () => {
    const bytes = readFileSync(fixturePath('mail-3.0.yaml'));
    expect(importMarker({ source: 'mail-3.0.yaml', bytes })).toEqual({
      source: 'mail-3.0.yaml',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });
});

/** The least document parseSource takes, for a test to add to. */
const DOC = 'openapi: 3.0.3\ninfo: {title: x, version: "1"}\npaths: {}\n';

describe('parseSource: what is an importable document', () => {
  const laughs = [
    'l0: &l0 [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from({ length: 10 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`),
  ].join('\n');
  const parseText = (text: string | Buffer) => () => parseSource('doc.yaml', Buffer.isBuffer(text) ? text : Buffer.from(text));
  it.each([
    ['openapi: [3.0', /^doc\.yaml is neither JSON nor YAML: /],
    ['{"openapi": "3.1.0", ', /^doc\.yaml is neither JSON nor YAML: /],
    ['- 1\n- 2\n', /^doc\.yaml is not an OpenAPI document: its top level is not an object$/],
    ['title: Not an API\n', /^doc\.yaml is not an OpenAPI document: it has no `openapi` version field$/],
    [
      '{"swagger": "2.0", "info": {}, "paths": {}}',
      /^doc\.yaml is Swagger 2\.0 \(OpenAPI 2\): only OpenAPI 3\.0 and 3\.1 are imported; convert it first/,
    ],
    ['openapi: 3.2.0\ninfo: {}\npaths: {}\n', /^doc\.yaml is OpenAPI 3\.2\.0: only OpenAPI 3\.0 and 3\.1 are imported$/],
    [
      'openapi: 3.1.0\ninfo: {title: x, version: "1"}\n',
      /^doc\.yaml is not a complete OpenAPI 3\.1\.0 document: it needs `info` and `paths`$/,
    ],
    [Buffer.from([0x6f, 0x70, 0xff, 0xfe]), /^doc\.yaml is not UTF-8 text/],
    // A billion laughs: ten levels of ten aliases each.
    [laughs, /^doc\.yaml: Excessive alias count/],
    // $refs outside the document: a file beside it, any file, any URL (Redocly and openapi-typescript would read or fetch them).
    ...['../../secret.yaml', '/etc/passwd', 'secret.yaml#/Leak', 'http://127.0.0.1:1/hang', 'https://schemas.example/a.json#/b'].map(
      (ref): [string, RegExp] => [
        `${DOC}components:\n  schemas:\n    Leak:\n      $ref: '${ref}'\n`,
        new RegExp(
          `^doc\\.yaml: the \\$ref at /components/schemas/Leak points outside the document \\(${ref.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\); bundle the document into one file first \\(e\\.g\\. npx @redocly/cli bundle\\)$`,
        ),
      ],
    ),
    // Deeper than any reader after the import takes (JSON.stringify overflowed at about 10,000).
    [
      `{"openapi": "3.0.3", "info": {}, "paths": {}, "x-deep": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      /^doc\.yaml nests deeper than 256 levels \(at \/x-deep\/0\/0\/0/,
    ],
    [`${DOC}x-deep: ${'['.repeat(300)}${']'.repeat(300)}\n`, /^doc\.yaml nests deeper than 256 levels/],
    // One node under an alias: within the bound where it is first met, beyond it where the alias repeats it deeper.
    [
      `${DOC}x-first: &s ${'['.repeat(100)}${']'.repeat(100)}\nx-again: ${'['.repeat(200)}*s${']'.repeat(200)}\n`,
      /^doc\.yaml nests deeper than 256 levels \(at \/x-again\/0\/0/,
    ],
    // An alias inside the node it names: a cycle, which Redocly fails on with "Something went wrong".
    [`${DOC}x-cycle: &c\n  self: [1, *c]\n`, /^doc\.yaml: a YAML alias at \/x-cycle\/self\/1 repeats a node that contains it \(a cycle\)$/],
    // A server variable default that moves the host (https://evil.example/.api.example.com).
    ...['evil.example/', 'evil.example?', 'evil.example#', 'me@evil.example', 'evil.example\\', 'evil.example:1', 'a b'].map(
      (value): [string, RegExp] => [
        `${DOC}servers:\n  - url: 'https://{tenant}.api.example.com/v1'\n    variables:\n      tenant: { default: ${JSON.stringify(value)} }\n`,
        /^doc\.yaml: the first server's URL: server variable "tenant" has the default ".*", with one of \/ \? # @ \\ : or whitespace, which could move the URL's host$/,
      ],
    ),
  ])('%#: refused with one line', (text, message) => {
    expect(parseText(text)).toThrow(ImportError);
    expect(parseText(text)).toThrow(message);
    try {
      parseText(text)();
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('one object reached by several aliases is no cycle; local $refs and 256 levels pass; the x-portico-* keys it brought are listed', () => {
    const parsed = parseSource(
      'doc.yaml',
      Buffer.from(
        `${DOC}x-shared: &s { type: string }\nx-uses: [*s, *s, { deeper: [*s] }]\nx-deep: ${'['.repeat(255)}${']'.repeat(255)}\n` +
          `x-portico-envelope: { data: /data }\ncomponents:\n  schemas:\n    A: { $ref: '#/components/schemas/B' }\n    B: { type: string, x-portico-note: 1 }\n` +
          `x-portico-auth: { securityScheme: key }\nx-portico-imported: { source: x }\n`,
      ),
    );
    expect(parsed.doc['x-uses'][2].deeper[0]).toBe(parsed.doc['x-shared']);
    expect(parsed.extensions).toEqual(['/ x-portico-envelope', '/components/schemas/B x-portico-note']);
    expect(fixture('mail-3.0.yaml').extensions).toEqual([]);
    const own = parseSource('own.yaml', readFileSync(fixturePath('steered-3.0.json')));
    expect(own.extensions).toEqual(['/paths/~1payments/post x-portico-retry-safe']);
  });

  it('a server variable: moving the host is refused, a whole URL or a path segment is not', () => {
    const server = (url: string, value: string) => () => defaultServerUrl({ servers: [{ url, variables: { v: { default: value } } }] });
    expect(server('{v}', 'https://api.fi.com/fdx/v4')()).toBe('https://api.fi.com/fdx/v4');
    expect(server('{v}/v2', 'https://api.example.com')()).toBe('https://api.example.com/v2');
    expect(server('https://fd.example.com/services/v{v}/rest', '6')()).toBe('https://fd.example.com/services/v6/rest');
    expect(server('https://{v}.api.example.com', 'eu')()).toBe('https://eu.api.example.com');
    expect(server('https://{v}.api.example.com', 'evil.example/')).toThrow(/server variable "v" has the default "evil\.example\/"/);
    expect(server('{v}://api.example.com', 'https://evil.example/?')).toThrow(/could move the URL's host/);
    expect(server('https://x{v}', 'https://evil.example')).toThrow(/could move the URL's host/);
  });

  it('what reaches the terminal from the document: control characters, C1 and bidi escaped; plain http that is not loopback named', () => {
    expect(printable('op\u001b[2K\r\nALL GOOD \u001b]52;c;x\u0007 \u009b31m \u202eevil \u007f')).toBe(
      'op\\u001b[2K\\u000d\\u000aALL GOOD \\u001b]52;c;x\\u0007 \\u009b31m \\u202eevil \\u007f',
    );
    expect(printable('café, 日本, tab-free')).toBe('café, 日本, tab-free');
    const warned = (source: string, server: string) => importWarnings(source, { servers: [{ url: server }] });
    expect(warned('http://docs.example/a.yaml', 'HTTP://api.example.com/v1')).toEqual([
      'http://docs.example/a.yaml was read over plain http: anyone on the way could have changed it',
      'the first server, HTTP://api.example.com/v1, is plain http: the runtime refuses it; use its https URL',
    ]);
    expect(warned('http://10.0.0.1/a.yaml', 'https://api.example.com')).toHaveLength(1);
    for (const loopback of [
      'http://127.0.0.1:8080/a.yaml',
      'http://localhost/a.yaml',
      'http://[::1]:1/a.yaml',
      'https://docs.example/a.yaml',
      'a.yaml',
    ])
      expect(warned(loopback, loopback.replace('a.yaml', 'v1'))).toEqual([]);
    expect(importWarnings('a.yaml', {})).toEqual([]);
  });

  it('YAML starting with a flow mapping is YAML, and is written as a block (loadSpec reads a leading `{` as JSON); a byte-order mark is skipped', () => {
    const parsed = parseSource('doc.yaml', Buffer.from('\uFEFF{openapi: 3.0.3, info: {title: x, version: "1"}, paths: {}}\n'));
    expect([parsed.doc.openapi, parsed.format]).toEqual(['3.0.3', 'yaml']);
    const out = importedText(parsed, { source: 'doc.yaml', sha256: '0'.repeat(64) }, undefined);
    expect(out).toMatch(/^openapi: 3\.0\.3\n/);
    expect(parse(out)).toEqual({ ...parsed.doc, 'x-portico-imported': { source: 'doc.yaml', sha256: '0'.repeat(64) } });
    expect(parseSource('doc.json', Buffer.from('\uFEFF{"openapi": "3.0.3", "info": {}, "paths": {}}')).format).toBe('json');
  });
});

// A loopback server for --from <URL>: a document, one that never answers, one
// too large (declared, and streamed without a length), and a 404.
let server: Server;
let base: string;
const requests: string[] = [];
const MAIL = readFileSync(fixturePath('mail-3.0.yaml'));

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/mail.yaml') res.writeHead(200, { 'content-type': 'application/yaml' }).end(MAIL);
    else if (path === '/notes.yaml') res.writeHead(200, { 'content-type': 'application/yaml' }).end('title: Not an API\n');
    else if (path === '/slow.yaml') res.writeHead(200, { 'content-type': 'application/yaml' }).write('openapi: 3.0.3\n');
    else if (path === '/declared.yaml') res.writeHead(200, { 'content-length': String(2 ** 20) }).write('openapi: 3.0.3\n');
    else if (path === '/streamed.yaml') {
      res.writeHead(200, { 'content-type': 'application/yaml' });
      // 64 KiB chunks until the reader gives up: never more than a bound.
      const chunk = `# ${'x'.repeat(64 * 1024 - 3)}\n`;
      let sent = 0;
      const more = () => {
        while (sent < 64 && !res.destroyed && res.write(chunk)) sent++;
        if (sent < 64 && !res.destroyed) res.once('drain', more);
        else res.end();
      };
      more();
    } else if (path === '/moved.yaml') res.writeHead(302, { location: '/again.yaml?sig=s3cret' }).end();
    else if (path === '/again.yaml') res.writeHead(307, { location: `${base}/mail.yaml?sig=s3cret#frag` }).end();
    else if (path.startsWith('/loop/')) res.writeHead(301, { location: `/loop/${Number(path.slice(6)) + 1}` }).end();
    else if (path === '/to-file.yaml') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    else if (path === '/to-credentials.yaml') res.writeHead(302, { location: `http://user:s3cret@127.0.0.1:1/mail.yaml` }).end();
    else if (path === '/to-slow.yaml') res.writeHead(303, { location: '/slow.yaml' }).end();
    else if (path === '/to-streamed.yaml') res.writeHead(308, { location: '/streamed.yaml' }).end();
    // The reason phrase is the server's to write: never repeated.
    else if (path === '/failing.yaml') res.writeHead(500, 'Internal s3cret', { 'content-type': 'text/plain' }).end('x');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such document');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('readSource: a file or an http(s) URL, bounded', () => {
  it('a URL: its bytes, recorded without the query (a signed link or token stays out of the spec)', async () => {
    const { source, bytes } = await readSource(`${base}/mail.yaml?token=s3cret#frag`, ROOT);
    expect(source).toBe(`${base}/mail.yaml`);
    expect(bytes.equals(MAIL)).toBe(true);
  });

  it.each([
    ['/missing.yaml', {}, /^http:\/\/127\.0\.0\.1:\d+\/missing\.yaml answered 404, not a document$/],
    ['/failing.yaml', {}, /^http:\/\/127\.0\.0\.1:\d+\/failing\.yaml answered 500, not a document$/],
    ['/loop/0', {}, /^http:\/\/127\.0\.0\.1:\d+\/loop\/5 redirects more than 5 times$/],
    ['/to-file.yaml', {}, /^file:\/\/\/etc\/passwd: only http and https URLs can be imported$/],
    ['/to-credentials.yaml', {}, /^http:\/\/127\.0\.0\.1:1\/mail\.yaml: a URL with credentials in it is not fetched/],
    // The bounds hold across redirects.
    ['/to-slow.yaml', { timeoutMs: 300 }, /^http:\/\/127\.0\.0\.1:\d+\/slow\.yaml did not answer within 0\.3 s$/],
    ['/to-streamed.yaml', { maxBytes: 2 ** 20 }, /^http:\/\/127\.0\.0\.1:\d+\/streamed\.yaml is more than the 1 MiB an import reads$/],
    ['/slow.yaml', { timeoutMs: 300 }, /^http:\/\/127\.0\.0\.1:\d+\/slow\.yaml did not answer within 0\.3 s$/],
    ['/declared.yaml', { maxBytes: 1024 }, /^http:\/\/127\.0\.0\.1:\d+\/declared\.yaml is more than the 1 KiB an import reads$/],
    ['/streamed.yaml', { maxBytes: 2 ** 20 }, /^http:\/\/127\.0\.0\.1:\d+\/streamed\.yaml is more than the 1 MiB an import reads$/],
  ])('%s: refused', async (path, options, message) => {
    const error = await readSource(`${base}${path}?key=s3cret`, ROOT, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('redirects are followed (at most 5) and the last URL is recorded, without its query', async () => {
    const { source, bytes } = await readSource(`${base}/moved.yaml?token=s3cret`, ROOT);
    expect(source).toBe(`${base}/mail.yaml`);
    expect(bytes.equals(MAIL)).toBe(true);
    const before = requests.length;
    await expect(readSource(`${base}/loop/0`, ROOT)).rejects.toThrow(/redirects more than 5 times/);
    expect(requests.slice(before)).toEqual(['/loop/0', '/loop/1', '/loop/2', '/loop/3', '/loop/4', '/loop/5']);
  });

  it('a URL with credentials, or another scheme, is not fetched; no message repeats a secret of the URL', async () => {
    const before = requests.length;
    for (const from of ['http://user:s3cret@127.0.0.1:1/x.yaml', 'ftp://127.0.0.1/x.yaml?key=s3cret', 'http://[s3cret/x.yaml']) {
      const error = await readSource(from, ROOT).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImportError);
      expect((error as Error).message).not.toContain('s3cret');
    }
    await expect(readSource(`http://user:s3cret@127.0.0.1:1/x.yaml`, ROOT)).rejects.toThrow(/a URL with credentials in it is not fetched/);
    await expect(readSource(`http://:s3cret@127.0.0.1:1/x.yaml`, ROOT)).rejects.toThrow(/a URL with credentials in it is not fetched/);
    await expect(readSource('ftp://127.0.0.1/x.yaml', ROOT)).rejects.toThrow(/only http and https URLs can be imported/);
    expect(requests.length).toBe(before);
  });

  it('a file in the tree is recorded by its path from the root; one outside by its name only', async () => {
    expect((await readSource(fixturePath('mail-3.0.yaml'), ROOT)).source).toBe('tools/test/fixtures/import/mail-3.0.yaml');
    const outside = mkdtempSync(join(tmpdir(), 'portico-import-source-'));
    try {
      copyFileSync(fixturePath('mail-3.0.yaml'), join(outside, 'mail.yaml'));
      const { source, bytes } = await readSource(join(outside, 'mail.yaml'), ROOT);
      expect(source).toBe('mail.yaml');
      expect(bytes.equals(MAIL)).toBe(true);
      // A relative path is the user's: from INIT_CWD, where pnpm was run, not the workspace root it runs scripts in.
      const saved = process.env.INIT_CWD;
      process.env.INIT_CWD = outside;
      try {
        expect((await readSource('mail.yaml', ROOT)).bytes.equals(MAIL)).toBe(true);
      } finally {
        if (saved === undefined) delete process.env.INIT_CWD;
        else process.env.INIT_CWD = saved;
      }
      await expect(readSource(join(outside, 'none.yaml'), ROOT)).rejects.toThrow(/^cannot read .*none\.yaml: no such file$/);
      await expect(readSource(outside, ROOT)).rejects.toThrow(/ is not a file$/);
      await expect(readSource(join(outside, 'mail.yaml'), ROOT, { maxBytes: 100 })).rejects.toThrow(
        /mail\.yaml is 1\.\d KiB, more than the 100 bytes an import reads$/,
      );
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

/** Every file under the tree (not the linked node_modules and tools) with its SHA-256: what a failed import must leave as it was. */
function snapshot(tree: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(tree, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || /\/(node_modules|tools)(\/|$)/.test(path.slice(tree.length))) continue;
    out[path.slice(tree.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

describe('pnpm new-provider <slug> --from, in a scratch tree', () => {
  let tree: string;
  let bad: string;
  beforeAll(() => {
    tree = scratchTree('portico-import-');
    bad = mkdtempSync(join(tmpdir(), 'portico-import-bad-'));
    writeFileSync(join(bad, 'garbage.yaml'), 'openapi: [3.0\n  paths: }\n');
    writeFileSync(join(bad, 'notes.yaml'), 'title: Not an API\nitems: [1, 2]\n');
    writeFileSync(join(bad, 'swagger.json'), JSON.stringify({ swagger: '2.0', info: { title: 'x', version: '1' }, paths: {} }));
    // Nothing Portico can send, under a name that is a terminal command (set the window title, ring the bell).
    writeFileSync(
      join(bad, 'escapes.json'),
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'x', version: '1' },
        security: [{ 'oidc\u001b]0;pwn\u0007': [] }],
        paths: {},
        components: { securitySchemes: { 'oidc\u001b]0;pwn\u0007': { type: 'openIdConnect', openIdConnectUrl: 'https://x.example' } } },
      }),
    );
    // A valid-looking document whose $ref goes nowhere: lint's error, not the generator's.
    writeFileSync(
      join(bad, 'broken-ref.yaml'),
      MAIL.toString().replace('schema:\n            type: string', "schema:\n            $ref: '#/components/schemas/Missing'"),
    );
  });
  afterAll(() => {
    rmSync(tree, { recursive: true, force: true });
    rmSync(bad, { recursive: true, force: true });
  });

  it.each([
    ['a missing file', () => ['--from', join(bad, 'none.yaml')], /^new-provider: cannot read .*none\.yaml: no such file$/],
    ['neither YAML nor JSON', () => ['--from', join(bad, 'garbage.yaml')], /^new-provider: .*garbage\.yaml is neither JSON nor YAML: /],
    [
      'not OpenAPI',
      () => ['--from', join(bad, 'notes.yaml')],
      /^new-provider: .*notes\.yaml is not an OpenAPI document: it has no `openapi` version field$/,
    ],
    [
      'Swagger 2.0',
      () => ['--from', join(bad, 'swagger.json')],
      /^new-provider: .*swagger\.json is Swagger 2\.0 \(OpenAPI 2\): only OpenAPI 3\.0 and 3\.1/,
    ],
    [
      "the document's escape sequences in a message",
      () => ['--from', join(bad, 'escapes.json')],
      /^new-provider: no security scheme Portico can send \(oidc\\u001b\]0;pwn\\u0007: openIdConnect \(not sent by Portico\)\)/,
    ],
    [
      'a 404',
      () => ['--from', `${base}/missing.yaml`],
      /^new-provider: http:\/\/127\.0\.0\.1:\d+\/missing\.yaml answered 404, not a document$/,
    ],
    [
      'a URL whose document is not OpenAPI (named without its query)',
      () => ['--from', `${base}/notes.yaml?token=s3cret`],
      /^new-provider: http:\/\/127\.0\.0\.1:\d+\/notes\.yaml is not an OpenAPI document: it has no `openapi` version field$/,
    ],
    [
      'a URL that does not answer within --timeout',
      () => ['--from', `${base}/slow.yaml`, '--timeout', '0.3'],
      /^new-provider: http:\/\/127\.0\.0\.1:\d+\/slow\.yaml did not answer within 0\.3 s$/,
    ],
  ])('%s: one line, a nonzero exit, nothing written', async (_, args, message) => {
    const before = snapshot(tree);
    const { code, stdout, stderr } = await newProvider(tree, ['wrong', ...args()]);
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
    expect(stdout).toBe('');
    expect(snapshot(tree)).toEqual(before);
  });

  it.each([
    ['--timeout 0', ['--from', 'x.yaml', '--timeout', '0']],
    ['--timeout Infinity', ['--from', 'x.yaml', '--timeout', 'Infinity']],
    ['--force without --from', ['--force']],
    ['two slugs', ['other', '--from', 'x.yaml']],
  ])('%s: the usage, exit 2, nothing written', async (_, args) => {
    const before = snapshot(tree);
    const { code, stderr } = await newProvider(tree, ['wrong', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: pnpm new-provider <slug> \[--from <path or http\(s\) URL>/m);
    expect(snapshot(tree)).toEqual(before);
  });

  it('a slug longer than 64 characters: the usage, exit 2, nothing written (not a raw ENAMETOOLONG)', async () => {
    const before = snapshot(tree);
    for (const slug of ['a'.repeat(65), 'a'.repeat(300)]) {
      const { code, stderr } = await newProvider(tree, [slug, '--from', fixturePath('mail-3.0.yaml')]);
      expect(code).toBe(2);
      expect(stderr.trim()).toMatch(/^usage: pnpm new-provider <slug> .*\(slug: at most 64 lowercase letters, digits and dashes\)$/);
    }
    expect(snapshot(tree)).toEqual(before);
  });

  it('specs/<slug> or its openapi.yaml a symbolic link: refused even with --force, nothing written through it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'portico-import-outside-'));
    try {
      mkdirSync(join(tree, 'specs/filelink'), { recursive: true });
      writeFileSync(join(outside, 'kept.yaml'), 'kept\n');
      symlinkSync(outside, join(tree, 'specs/dirlink'));
      symlinkSync(join(outside, 'kept.yaml'), join(tree, 'specs/filelink/openapi.yaml'));
      const before = snapshot(tree);
      for (const [slug, link] of [
        ['dirlink', 'specs/dirlink'],
        ['filelink', 'specs/filelink/openapi.yaml'],
      ]) {
        const { code, stdout, stderr } = await newProvider(tree, [slug!, '--from', fixturePath('mail-3.0.yaml'), '--force']);
        expect(code).not.toBe(0);
        expect(stdout).toBe('');
        expect(stderr.trim()).toBe(`new-provider: ${link} is a symbolic link: the import writes only into specs/ itself`);
      }
      expect(readdirSync(outside)).toEqual(['kept.yaml']);
      expect(readFileSync(join(outside, 'kept.yaml'), 'utf8')).toBe('kept\n');
      expect(snapshot(tree)).toEqual(before);
    } finally {
      rmSync(join(tree, 'specs/dirlink'), { force: true });
      rmSync(join(tree, 'specs/filelink'), { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('what the user must check is said: plain http, where credentials go, the extensions the document brought; its escape sequences never reach the terminal', async () => {
    linkWorkspace(tree, 'steered');
    const { code, stdout, stderr } = await newProvider(tree, ['steered', '--from', fixturePath('steered-3.0.json')]);
    expect(code, `${stdout}${stderr}`).toBe(0);
    // No ESC, CSI, OSC or BEL of the document's: each written as its escape.
    expect(`${stdout}${stderr}`.split('\n').filter((line) => printable(line) !== line)).toEqual([]);
    expect(stdout).toContain(
      'warning: the first server, http://api.steered.example/v1, is plain http: the runtime refuses it; use its https URL',
    );
    expect(stdout).toContain(
      [
        'Where it sends requests and credentials:',
        '  - API: http://api.steered.example',
        "  - authorization URL: https://login.steered.example, not the API's origin: credentials go to https://login.steered.example: check it is the provider's",
        '  - token URL: http://api.steered.example',
        "  - refresh_token URL: https://tokens.elsewhere.example, not the API's origin: credentials go to https://tokens.elsewhere.example: check it is the provider's",
      ].join('\n'),
    );
    expect(stdout).toContain(
      'Kept from the document: its own x-portico-* extensions (review each; the generator and runtime act on them):\n  - /paths/~1payments/post x-portico-retry-safe',
    );
    expect(stdout).toContain('  - Digest: http digest\\u001b[31mRED\\u001b[0m (Portico sends basic and bearer)');
    expect(stdout).toContain(
      '  - GET /digest (op\\u001b[2K\\u001b[1A\\u001b[2K\\u000dALL GOOD \\u001b]52;c;ZWNobyBwd25lZA==\\u001b\\): Digest',
    );
    expect(parse(readFileSync(join(tree, 'specs/steered/openapi.yaml'), 'utf8')).paths['/payments'].post['x-portico-retry-safe']).toBe(
      true,
    );
  });

  it('an existing spec without --force: one line, nothing written', async () => {
    mkdirSync(join(tree, 'specs/kept'), { recursive: true });
    writeFileSync(join(tree, 'specs/kept/openapi.yaml'), 'openapi: 3.1.0\n');
    const before = snapshot(tree);
    const { code, stderr } = await newProvider(tree, ['kept', '--from', fixturePath('mail-3.0.yaml')]);
    expect(code).not.toBe(0);
    expect(stderr.trim()).toBe('new-provider: specs/kept/ already exists: pass --force to replace its openapi.yaml with the import');
    expect(snapshot(tree)).toEqual(before);
    rmSync(join(tree, 'specs/kept'), { recursive: true });
  });

  it("a lint error stops the import with lint's own report on the terminal, before anything is generated; fixed, a run without --from goes on", async () => {
    const { code, stdout, stderr } = await newProvider(tree, ['broken', '--from', join(bad, 'broken-ref.yaml')]);
    expect(code).not.toBe(0);
    expect(`${stdout}${stderr}`).toMatch(/error +no-unresolved-refs +Can't resolve \$ref/);
    expect(stderr).toMatch(
      /^new-provider: specs\/broken\/openapi.yaml is written and registered, but lint \(the imported rule set\) finds the problems above: fix them there, then run `pnpm new-provider broken`$/m,
    );
    expect(existsSync(join(tree, 'packages/broken'))).toBe(false);
    expect(
      parseDocument(readFileSync(join(tree, 'redocly.yaml'), 'utf8'))
        .getIn(['apis', 'broken', 'extends'])
        ?.toString(),
    ).toContain(IMPORTED_RULES);
    // What the message says to do: fix the spec, run the command again (no --from); the import's road goes on.
    const spec = join(tree, 'specs/broken/openapi.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace("$ref: '#/components/schemas/Missing'", 'type: string'));
    linkWorkspace(tree, 'broken');
    const again = await newProvider(tree, ['broken']);
    expect(again.code, `${again.stdout}${again.stderr}`).toBe(0);
    expect(again.stdout).toContain('@portico/broken is generated and built from the imported specs/broken/openapi.yaml.');
    expect(existsSync(join(tree, 'packages/broken/dist/index.js'))).toBe(true);
  });

  it('from a URL (bearer): lints, generates, builds and budgets; the client sends the token', async () => {
    linkWorkspace(tree, 'mail');
    const { code, stdout, stderr } = await newProvider(tree, ['mail', '--from', `${base}/mail.yaml?token=s3cret`]);
    expect(code, `${stdout}${stderr}`).toBe(0);
    const text = readFileSync(join(tree, 'specs/mail/openapi.yaml'), 'utf8');
    expect(text).not.toContain('s3cret');
    expect(text).toContain('# Mail API: one bearer token');
    expect(parse(text)['x-portico-imported']).toEqual({
      source: `${base}/mail.yaml`,
      sha256: createHash('sha256').update(MAIL).digest('hex'),
    });
    expect(readFileSync(join(tree, '.size-limit.js'), 'utf8')).toMatch(/ {2}mail: '[\d.]+ kB',/);
    expect(stdout).toContain('@portico/mail is generated and built from the imported specs/mail/openapi.yaml.');

    const api = await apiServer();
    try {
      const { createClient } = await import(pathToFileURL(join(tree, 'packages/mail/dist/index.js')).href);
      const client = createClient({ baseUrl: api.url, auth: { accessToken: 'mail-token' } });
      expect((await client.GET('/emails/{email_id}', { params: { path: { email_id: 'e_1' } } })).data).toEqual({ id: 'e_1' });
      expect(api.seen).toEqual([{ route: 'GET /emails/e_1', authorization: 'Bearer mail-token' }]);
    } finally {
      await api.close();
    }
  });

  it('client credentials with a relative token URL: the token comes from the API origin, then goes on the call', async () => {
    linkWorkspace(tree, 'orders');
    const { code, stdout, stderr } = await newProvider(tree, ['orders', '--from', fixturePath('orders-3.0.yaml')]);
    expect(code, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toContain('Left out of x-portico-auth:\n  - Oidc: openIdConnect (not sent by Portico)');
    expect(stdout).toContain(
      '1 operation(s) will go without a credential (their security names only schemes left out):\n  - GET /v2/sso (sso): Oidc',
    );
    // The fixture is outside the scratch tree: its name only.
    expect(parse(readFileSync(join(tree, 'specs/orders/openapi.yaml'), 'utf8'))['x-portico-imported'].source).toBe('orders-3.0.yaml');

    const api = await apiServer();
    try {
      const { createClient } = await import(pathToFileURL(join(tree, 'packages/orders/dist/index.js')).href);
      const client = createClient({ baseUrl: api.url, auth: { clientId: 'orders-client', clientSecret: 'orders-secret' } });
      expect((await client.GET('/v2/orders/{order_id}', { params: { path: { order_id: 'o_1' } } })).data).toEqual({ id: 'o_1' });
      expect(api.seen).toEqual([
        {
          route: 'POST /v1/oauth2/token',
          authorization: `Basic ${Buffer.from('orders-client:orders-secret').toString('base64')}`,
          body: 'grant_type=client_credentials',
        },
        { route: 'GET /v2/orders/o_1', authorization: 'Bearer orders-access' },
      ]);
    } finally {
      await api.close();
    }
  });

  it('JSON 3.1 with a 3.0 keyword (nullable): lint warns and goes on; the spec stays JSON; --force re-imports', async () => {
    linkWorkspace(tree, 'gadgets');
    const first = await newProvider(tree, ['gadgets', '--from', fixturePath('gadgets-3.1.json')]);
    expect(first.code, `${first.stdout}${first.stderr}`).toBe(0);
    expect(`${first.stdout}${first.stderr}`).toMatch(/warning +struct +Property `nullable` is not expected here/);
    const text = readFileSync(join(tree, 'specs/gadgets/openapi.yaml'), 'utf8');
    expect(JSON.parse(text)['x-portico-auth'].grants).toEqual(['authorization_code', 'refresh_token']);
    const again = await newProvider(tree, ['gadgets', '--from', fixturePath('gadgets-3.1.json'), '--force']);
    expect(again.code, `${again.stdout}${again.stderr}`).toBe(0);
    expect(readFileSync(join(tree, 'specs/gadgets/openapi.yaml'), 'utf8')).toBe(text);
  });

  // Runs after the imports above: a bearer short form (mail, broken), client credentials (orders), OAuth with a personal token (gadgets).
  it('the tools that read every provider take the imported ones: the docs site and the CLI catalog', async () => {
    mkdirSync(join(tree, '.changeset'), { recursive: true });
    const site = join(tree, 'site');
    const docs = await run(bin('tsx'), [join(ROOT, 'tools/docs.ts'), '--out', site], { cwd: ROOT, env: { ...env, PORTICO_ROOT: tree } });
    expect(docs.stdout).toContain('site/mail/index.html');
    const index = readFileSync(join(site, 'index.html'), 'utf8');
    for (const slug of ['broken', 'gadgets', 'mail', 'orders']) expect(index).toContain(`href="./${slug}/index.html"`);
    // The login quick start is for authorization-code providers only.
    expect(index).toContain('npx @portico/cli login gadgets');
    expect(index).not.toContain('npx @portico/cli login mail');

    const render = `import { renderCatalog } from ${JSON.stringify(join(ROOT, 'tools/cli-catalog.ts'))};\nprocess.stdout.write(renderCatalog());\n`;
    const { stdout: catalog } = await run(bin('tsx'), ['--eval', render], { cwd: ROOT, env: { ...env, PORTICO_ROOT: tree } });
    const provider = (slug: string) => JSON.parse(`{${new RegExp(`^ {2}\\{("slug":"${slug}".*),$`, 'm').exec(catalog)![1]}}`);
    expect(provider('mail').grants).toBeUndefined();
    expect(provider('mail').auth.grants).toEqual([]);
    const operation = (path: string) =>
      JSON.parse(new RegExp(`^ {6}(\\{"method":"GET","path":"${path}".*\\}),$`, 'm').exec(catalog)![1]!) as { secured: boolean };
    // Only the personal token (a held credential, not the OAuth scheme) opens /tokens: it still takes a credential.
    expect(operation('/tokens').secured).toBe(true);
    expect(operation('/v2/status').secured).toBe(false);
    expect(operation('/emails/\\{email_id\\}').secured).toBe(true);
    // What the CLI compiles: the catalog against its own Catalog type.
    const file = join(ROOT, 'packages/cli/src/generated/catalog.imported-check.ts');
    const problems = typecheck({ [file]: catalog.replace(/export const packages = \{[\s\S]*\} as const;\n/, '') });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

/** The API the built clients call: a token endpoint and two reads, each request recorded with its credential. */
async function apiServer(): Promise<{ url: string; seen: Json[]; close: () => Promise<void> }> {
  const seen: Json[] = [];
  const api = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const route = `${req.method} ${req.url}`;
      seen.push({ route, authorization: req.headers.authorization, ...(body ? { body } : {}) });
      if (route === 'POST /v1/oauth2/token' && parseBasic(req.headers.authorization)?.secret === 'orders-secret') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ access_token: 'orders-access', token_type: 'Bearer', expires_in: 3600 }));
      } else if (route === 'GET /emails/e_1' || route === 'GET /v2/orders/o_1') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: route.split('/').at(-1) }));
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    seen,
    close: () => {
      api.closeAllConnections();
      return new Promise((resolve) => api.close(() => resolve()));
    },
  };
}
