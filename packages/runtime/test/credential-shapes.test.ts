// Credentials of every shape the OpenAPI security model has, as profile data:
// a requirement naming several schemes (all sent), alternatives (the user
// passes one), a prefix before an API key, constant headers, and held
// credentials beside OAuth. Checked on the wire by a loopback server; each
// part goes only to operations whose `security` takes it, only to the API's
// origin, and never shows in an error, an inspect, JSON or a log line.
import { inspect } from 'node:util';
import {
  type AuthInput,
  type AuthProfile,
  authenticatorFor,
  ConfigurationError,
  type CredentialProfile,
  type CredentialRules,
  createCredentialAuthenticator,
  heldCredentials,
  staticToken,
} from '@portico/auth';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineClient, type OperationMeta, type ProviderSpec } from '../src/index.ts';
import {
  canary,
  expectNoSecretsIn,
  json,
  MemoryLogger,
  type RecordedRequest,
  renderings,
  startServer,
  type TestServer,
} from './helpers.ts';

let api: TestServer;
let other: TestServer;
beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  const echo = (r: RecordedRequest) => json(200, { path: r.path });
  for (const path of ['/both', '/id-only', '/secret-or-basic', '/basic-only', '/public', '/org']) api.on(`GET ${path}`, echo);
  other.on('GET /landing', echo);
});
afterAll(() => Promise.all([api.close(), other.close()]));
beforeEach(() => {
  api.reset();
  other.reset();
});

const ID: CredentialRules = { type: 'apiKey', in: 'header', name: 'X-Client-Id', input: 'clientId' };
const SECRET: CredentialRules = { type: 'apiKey', in: 'header', name: 'X-Client-Secret', input: 'clientSecret' };
const SIGNED: CredentialRules = { type: 'apiKey', in: 'query', name: 'sig', input: 'signature' };
const BASIC: CredentialRules = { type: 'basic' };
const BOT: CredentialRules = { type: 'apiKey', in: 'header', name: 'Authorization', prefix: 'Bot', input: 'botToken' };

// The operations' security, as the generator writes it where a profile has several schemes.
const OPERATIONS: Record<string, OperationMeta> = {
  'GET /both': { security: [['Id', 'Secret']] },
  'GET /id-only': { security: [['Id']] },
  'GET /secret-or-basic': { security: [['Id', 'Secret'], ['Basic']] },
  'GET /basic-only': { security: [['Basic']] },
  'GET /public': {},
};

function clientWith(auth: CredentialProfile, input: Record<string, string>, extra: { logger?: MemoryLogger; throwOnError?: boolean } = {}) {
  const spec: ProviderSpec<CredentialProfile> = { slug: 'shapes', defaultBaseUrl: api.url, auth, operations: OPERATIONS };
  return defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
    spec,
    createCredentialAuthenticator,
  )({
    auth: input,
    logLevel: 'debug',
    ...extra,
  }) as any;
}

const PAIR: CredentialProfile = { credentials: [{ Id: ID, Secret: SECRET }, { Basic: BASIC }] };
const PAIR_INPUT = { clientId: 'client-id-0123456789', clientSecret: 'client-secret-0123456789' };

describe('a requirement naming several schemes', () => {
  it('sends every scheme of it, each where its rules say', async () => {
    await clientWith(PAIR, PAIR_INPUT).GET('/both');
    const [sent] = api.requests;
    expect(sent!.headers['x-client-id']).toBe(PAIR_INPUT.clientId);
    expect(sent!.headers['x-client-secret']).toBe(PAIR_INPUT.clientSecret);
    expect(sent!.headers.authorization).toBeUndefined();
  });

  it('an operation that takes one of the schemes gets that one only, a public one none', async () => {
    const c = clientWith(PAIR, PAIR_INPUT);
    await c.GET('/id-only');
    await c.GET('/public');
    const [idOnly, open] = api.requests;
    expect(idOnly!.headers['x-client-id']).toBe(PAIR_INPUT.clientId);
    expect(idOnly!.headers['x-client-secret']).toBeUndefined();
    expect(open!.headers['x-client-id']).toBeUndefined();
    expect(open!.headers['x-client-secret']).toBeUndefined();
  });

  it('a part in the query goes there, beside the header parts', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    await clientWith(profile, { clientId: 'client-id-0123456789', signature: 'sig-0123456789' }).GET('/both');
    expect(api.requests[0]!.headers['x-client-id']).toBe('client-id-0123456789');
    expect(api.requests[0]!.query.get('sig')).toBe('sig-0123456789');
  });

  it('every part stays behind on a redirect to another origin', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    // The API copies the query into its Location, as some do.
    api.inject('GET /both', (r) => ({ status: 302, headers: { location: `${other.url}/landing?${r.query}` } }));
    const c = clientWith(profile, { clientId: 'client-id-0123456789', signature: 'sig-0123456789' });
    expect((await c.GET('/both')).data).toEqual({ path: '/landing' });
    const landed = other.requests[0]!;
    expect(landed.headers['x-client-id']).toBeUndefined();
    expect(landed.query.toString()).not.toContain('sig-0123456789');
    expect(landed.query.has('sig')).toBe(false);

    api.reset();
    api.inject('GET /both', { status: 307, headers: { location: `${other.url}/landing` } });
    await clientWith(PAIR, PAIR_INPUT).GET('/both');
    expect(other.requests[1]!.headers['x-client-id']).toBeUndefined();
    expect(other.requests[1]!.headers['x-client-secret']).toBeUndefined();
  });
});

describe('alternatives', () => {
  it('the fields passed choose the alternative; an operation takes the first requirement the client holds', async () => {
    const c = clientWith(PAIR, { username: 'user', password: 'basic-password-0123' });
    await c.GET('/secret-or-basic');
    await c.GET('/basic-only');
    await c.GET('/both');
    const [either, basicOnly, both] = api.requests;
    const basic = `Basic ${btoa('user:basic-password-0123')}`;
    expect(either!.headers.authorization).toBe(basic);
    expect(basicOnly!.headers.authorization).toBe(basic);
    expect(either!.headers['x-client-id']).toBeUndefined();
    // An operation that takes only the other alternative goes without a credential, for the API to refuse.
    expect(both!.headers.authorization).toBeUndefined();
  });

  it('with the other alternative, an operation taking only Basic goes without', async () => {
    const c = clientWith(PAIR, PAIR_INPUT);
    await c.GET('/secret-or-basic');
    await c.GET('/basic-only');
    const [either, basicOnly] = api.requests;
    expect(either!.headers['x-client-secret']).toBe(PAIR_INPUT.clientSecret);
    expect(basicOnly!.headers.authorization).toBeUndefined();
    expect(basicOnly!.headers['x-client-id']).toBeUndefined();
  });

  it('input with the fields of none is a ConfigurationError listing what the client takes, quoting no value', () => {
    const error = (() => {
      try {
        clientWith(PAIR, { clientId: 'client-id-0123456789', apiKey: 'stray-key-0123456789' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe('auth must be { clientId, clientSecret }, { username, password } for this provider');
    expectNoSecretsIn(renderings(error), ['client-id-0123456789', 'stray-key-0123456789'], 'the error');
  });

  it('an empty field of the chosen alternative is refused by name', () => {
    expect(() => clientWith(PAIR, { clientId: 'client-id-0123456789', clientSecret: '' })).toThrow(
      new ConfigurationError('auth.clientSecret must be a non-empty string (the API key)'),
    );
  });

  it('the alternative with the most fields present wins over one whose fields are a subset', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID }, { Id: ID, Secret: SECRET }] };
    await clientWith(profile, PAIR_INPUT).GET('/both');
    expect(api.requests[0]!.headers['x-client-secret']).toBe(PAIR_INPUT.clientSecret);
  });
});

describe('a prefix before an API key', () => {
  it('goes before the key with one space', async () => {
    const profile: CredentialProfile = { credentials: [{ Bot: BOT }] };
    const spec: ProviderSpec<CredentialProfile> = {
      slug: 'bot',
      defaultBaseUrl: api.url,
      auth: profile,
      operations: { 'GET /both': { requiresAuth: true } },
    };
    const c = defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
      spec,
      createCredentialAuthenticator,
    )({
      auth: { botToken: 'bot-token-0123456789' },
    }) as any;
    await c.GET('/both');
    expect(api.requests[0]!.headers.authorization).toBe('Bot bot-token-0123456789');
  });
});

describe('constant headers', () => {
  it('go with every request, and a header of the caller the same name wins', async () => {
    const profile: CredentialProfile = { credentials: [{ Basic: BASIC }], headers: { 'Api-Version': '2024-06-01' } };
    const spec: ProviderSpec<CredentialProfile> = { slug: 'versioned', defaultBaseUrl: api.url, auth: profile, operations: OPERATIONS };
    const create = defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(spec, createCredentialAuthenticator);
    const c = create({ auth: { username: 'u', password: 'p-0123456789' } }) as any;
    await c.GET('/public');
    await c.GET('/basic-only', { headers: { 'api-version': '2025-01-01' } });
    await (create({ auth: { username: 'u', password: 'p-0123456789' }, headers: { 'Api-Version': '2023-01-01' } }) as any).GET('/public');
    expect(api.requests.map((r) => r.headers['api-version'])).toEqual(['2024-06-01', '2025-01-01', '2023-01-01']);
  });
});

describe('held credentials beside OAuth', () => {
  const oauth: AuthProfile = {
    securityScheme: 'OAuth2',
    grants: ['authorization_code', 'refresh_token'],
    token: {
      url: '/oauth/token',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      grants: {},
      response: { accessToken: '/access_token' },
    },
    apply: { header: 'Authorization', scheme: 'Bearer' },
    credentials: [{ Token: { type: 'apiKey', in: 'header', name: 'X-Token' } }],
  } as unknown as AuthProfile;
  const operations: Record<string, OperationMeta> = {
    'GET /both': { security: [['Token'], ['OAuth2']] },
    'GET /id-only': { security: [['OAuth2']] },
    'GET /org': { security: [['OrgOAuth2']] },
  };
  const clientOf = (input: AuthInput) => {
    const spec = { slug: 'figma-like', defaultBaseUrl: api.url, auth: oauth, operations };
    return defineClient<any, AuthInput, Record<never, never>>(spec, authenticatorFor(staticToken, heldCredentials))({ auth: input }) as any;
  };

  it('a personal token goes where an operation takes it, and nowhere it does not', async () => {
    const c = clientOf({ apiKey: 'personal-token-0123456789' });
    await c.GET('/both');
    await c.GET('/id-only');
    await c.GET('/org');
    const [both, oauthOnly, org] = api.requests;
    expect(both!.headers['x-token']).toBe('personal-token-0123456789');
    expect(both!.headers.authorization).toBeUndefined();
    expect(oauthOnly!.headers['x-token']).toBeUndefined();
    expect(org!.headers['x-token']).toBeUndefined();
  });

  it("an OAuth token goes to operations that take the profile's OAuth scheme only", async () => {
    const c = clientOf({ accessToken: 'oauth-token-0123456789' });
    await c.GET('/both');
    await c.GET('/id-only');
    await c.GET('/org');
    expect(api.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer oauth-token-0123456789',
      'Bearer oauth-token-0123456789',
      undefined,
    ]);
    expect(api.requests.every((r) => r.headers['x-token'] === undefined)).toBe(true);
  });

  it('input of neither kind lists both', () => {
    expect(() => clientOf({ token: 'x' })).toThrow(
      new ConfigurationError('auth must be { accessToken }, { apiKey }, or an Authenticator (a session from oauth().session() is one)'),
    );
  });
});

describe('redaction', () => {
  it('no part, nor a Basic encoding, shows in an error, a log line, an inspect or JSON, for any values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }).filter((s) => s.trim() === s && !/[:\s]/.test(s)),
        fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }).filter((s) => s.trim() === s),
        fc.constantFrom('/both', '/secret-or-basic'),
        async (first, second, path) => {
          api.reset();
          // The server echoes every header it saw in an error body.
          api.inject(`GET ${path}`, (r) => json(400, { seen: r.headers, query: r.query }));
          const logger = new MemoryLogger();
          const basic = path === '/secret-or-basic';
          const input = basic ? { username: 'user', password: second } : { clientId: first, clientSecret: second };
          const c = clientWith(PAIR, input, { logger, throwOnError: true });
          const error = await c.GET(path).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(Error);
          const sent = api.requests[0]!.headers;
          const secrets = basic ? [second, sent.authorization!.slice('Basic '.length)] : [first, second];
          expectNoSecretsIn(renderings(error), secrets, 'the error');
          expectNoSecretsIn(logger.texts(), secrets, 'the log');
          expectNoSecretsIn([inspect(c, { depth: Infinity, showHidden: true }), JSON.stringify(c) ?? ''], secrets, 'the client');
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a held part under a field name redaction does not know is still cut from an echo before its first send', async () => {
    const secret = canary('partner');
    const profile: CredentialProfile = {
      credentials: [{ Partner: { type: 'apiKey', in: 'header', name: 'X-Partner', input: 'partner' } }],
    };
    const spec: ProviderSpec<CredentialProfile> = {
      slug: 'partner',
      defaultBaseUrl: api.url,
      auth: profile,
      // The public operation's error quotes the key, though the client never sent it there.
      operations: { 'GET /public': {} },
    };
    api.inject('GET /public', () => json(400, { message: `unknown partner ${secret}` }));
    const c = defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
      spec,
      createCredentialAuthenticator,
    )({
      auth: { partner: secret },
      throwOnError: true,
    }) as any;
    const error = await c.GET('/public').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expectNoSecretsIn(renderings(error), [secret], 'the error');
  });
});

// Found by the adversarial review of this change (probes against the built packages).
describe('what a review broke', () => {
  const refusal = (make: () => unknown) => {
    try {
      make();
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it('auth given as a bare string or null is a ConfigurationError that never quotes it', () => {
    const key = 'sk_live_STRINGKEY_0123456789';
    for (const input of [key, null, 42] as unknown as Record<string, string>[]) {
      const error = refusal(() => clientWith(PAIR, input));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe('auth must be { clientId, clientSecret }, { username, password } for this provider');
      const viaKinds = refusal(() =>
        defineClient<any, AuthInput, Record<never, never>>(
          {
            slug: 'oauth-held',
            defaultBaseUrl: api.url,
            auth: { credentials: PAIR.credentials } as unknown as AuthProfile,
            operations: OPERATIONS,
          },
          authenticatorFor(staticToken, heldCredentials),
        )({ auth: input as unknown as AuthInput }),
      );
      expect(viaKinds).toBeInstanceOf(ConfigurationError);
      expectNoSecretsIn([...renderings(error), ...renderings(viaKinds)], [key], 'the error');
    }
  });

  it("a query part is not in the response's url, nor in its inspect", async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    const result = await clientWith(profile, { clientId: 'client-id-0123456789', signature: 'sig-0123456789' }).GET('/both');
    expect(api.requests[0]!.query.get('sig')).toBe('sig-0123456789');
    expect(result.response.url).toBe(`${api.url}/both`);
    expectNoSecretsIn([inspect(result, { depth: Infinity }), result.response.url], ['sig-0123456789'], 'the result');
  });

  it('a Location that carries the credential to another origin in any other form is not followed', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    const input = { clientId: 'client-id-0123456789', signature: 'signature-0123456789' };
    const locations = [
      `${other.url}/landing?return_to=${encodeURIComponent(`${api.url}/both?sig=${input.signature}`)}`,
      `${other.url}/landing/${input.signature}`,
      `${other.url}/landing?next=${encodeURIComponent(`sig=${input.signature}`)}`,
      `${other.url}/landing?id=${input.clientId}x`,
      // Escaped as a URL allows: one character, every character, lower-case hex, escaped twice.
      `${other.url}/landing/%73${input.signature.slice(1)}`,
      `${other.url}/landing/${[...input.signature].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`,
      `${other.url}/landing/${input.signature.slice(0, 9)}%2d${input.signature.slice(10)}`,
      `${other.url}/landing/%2573${input.signature.slice(1)}`,
    ];
    for (const location of locations) {
      api.inject('GET /both', { status: 302, headers: { location } });
      const { response } = await clientWith(profile, input).GET('/both');
      expect(response.status).toBe(302);
    }
    expect(other.requests).toEqual([]);
  });

  it('a same-origin redirect keeps every part, the query part included', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    api.inject('GET /both', { status: 307, headers: { location: `${api.url}/id-only` } });
    await clientWith(profile, { clientId: 'client-id-0123456789', signature: 'sig-0123456789' }).GET('/both');
    const hop = api.requests[1]!;
    expect(hop.path).toBe('/id-only');
    expect(hop.headers['x-client-id']).toBe('client-id-0123456789');
    expect(hop.query.get('sig')).toBe('sig-0123456789');
  });

  it('values a header cannot carry, or a bearer token outside RFC 6750, are refused at createClient', () => {
    const bearer: CredentialProfile = { credentials: [{ Token: { type: 'bearer', header: 'Authorization', scheme: 'Bearer' } }] };
    const cases: [CredentialProfile, Record<string, string>, string][] = [
      [
        PAIR,
        { clientId: 'id-\ud800-0123456789', clientSecret: 's-0123456789' },
        'auth.clientId must be well-formed Unicode (it holds half a surrogate pair)',
      ],
      [
        PAIR,
        { clientId: 'id-\u0100-0123456789', clientSecret: 's-0123456789' },
        'auth.clientId cannot be sent in a header: it holds control characters or characters beyond Latin-1',
      ],
      [
        PAIR,
        { clientId: 'id-\u007f-0123456789', clientSecret: 's-0123456789' },
        'auth.clientId cannot be sent in a header: it holds control characters or characters beyond Latin-1',
      ],
      [bearer, { accessToken: 'tok en-0123456789' }, 'auth.accessToken must be a token of visible ASCII characters only (RFC 6750 §2.1)'],
    ];
    for (const [profile, input, message] of cases) expect(() => clientWith(profile, input)).toThrow(new ConfigurationError(message));
    // A query value may hold any well-formed text: it is percent-encoded.
    expect(() => clientWith({ credentials: [{ Secret: SIGNED }] }, { signature: 'sig-\u0100-0123456789' })).not.toThrow();
  });

  it('every part of a credential with many parts is redacted from an echo', async () => {
    const names = [0, 1, 2, 3, 4].map((i) => `Part${i}`);
    const profile: CredentialProfile = {
      credentials: [
        Object.fromEntries(
          names.map((name, i) => [name, { type: 'apiKey', in: 'header', name: `X-${name}`, prefix: 'Key', input: `part${i}` }]),
        ),
      ],
    };
    const input = Object.fromEntries(names.map((_, i) => [`part${i}`, `part-value-${i}-0123456789`]));
    const spec: ProviderSpec<CredentialProfile> = {
      slug: 'many',
      defaultBaseUrl: api.url,
      auth: profile,
      operations: { 'GET /both': { security: [names] } },
    };
    api.inject('GET /both', (r) => json(401, { seen: r.headers }));
    const c = defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
      spec,
      createCredentialAuthenticator,
    )({
      auth: input,
      throwOnError: true,
    }) as any;
    const error = await c.GET('/both').catch((e: unknown) => e);
    expect(api.requests[0]!.headers['x-part0']).toBe('Key part-value-0-0123456789');
    expectNoSecretsIn(renderings(error), Object.values(input), 'the error');
  });

  it("a user's own Authenticator answers every requirement of a profile of held credentials", async () => {
    const own = {
      getAuthorization: async () => ({ name: 'X-Own', value: 'own-credential-0123456789' }),
      handleUnauthorized: async () => false,
    };
    await clientWith(PAIR, own as unknown as Record<string, string>).GET('/both');
    await clientWith(PAIR, own as unknown as Record<string, string>).GET('/public');
    expect(api.requests.map((r) => r.headers['x-own'])).toEqual(['own-credential-0123456789', undefined]);
  });

  it('an input named like an Object.prototype member must be given, not inherited', () => {
    const profile: CredentialProfile = {
      credentials: [{ Id: { type: 'apiKey', in: 'header', name: 'X-Ctor', input: 'constructor' } }, { Basic: BASIC }],
    };
    expect(() => clientWith(profile, { apiKey: 'stray-0123456789' })).toThrow(
      new ConfigurationError('auth must be { constructor }, { username, password } for this provider'),
    );
  });
});

// Pins what a StrykerJS mutant of src/transport.ts changed without any other test noticing.
describe("the response's url of a query credential", () => {
  it('a fetch plugged in that answers with no url (a stub, a cache) gives its response as it came', async () => {
    const profile: CredentialProfile = { credentials: [{ Id: ID, Secret: SIGNED }] };
    const fetch = async () => new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
    const spec: ProviderSpec<CredentialProfile> = { slug: 'stubbed', defaultBaseUrl: api.url, auth: profile, operations: OPERATIONS };
    const c = defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
      spec,
      createCredentialAuthenticator,
    )({ auth: { clientId: 'client-id-0123456789', signature: 'sig-0123456789' }, fetch }) as any;
    const result = await c.GET('/both');
    expect(result.data).toEqual({ ok: true });
    expect(result.response.url).toBe('');
  });
});
