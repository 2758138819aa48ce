// The auth boundaries: token endpoint responses, the authorization callback,
// redirect URIs and base URLs. Any input ends in tokens that are safe to put
// in a header and to store as JSON, or in a typed error with a stable code;
// client secrets, codes, verifiers and tokens never reach an error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuthProfile, createAuthenticator, createOAuthFlow, type Tokens } from '../../packages/auth/src/index.ts';
import * as finexer from '../../packages/finexer/src/index.ts';
import { loadProfile } from '../../packages/testing/src/profiles.ts';
import { anyText, canary, expectNoCanary, expectPorticoError, group, outcome, refreshTail, renderings, secretTail } from './support.ts';

const g = group('auth');
const AUTH = 'https://auth.example.test';
const NOW = Date.UTC(2026, 0, 1);
const TOKEN_CODES = ['oauth_error', 'token_response_error', 'response_too_large', 'connection_error', 'reauthorization_required'];
const profiles: Record<string, AuthProfile> = {
  'dexero-fd': loadProfile('dexero-fd').profile,
  finexer: loadProfile('finexer').profile,
  fdx: loadProfile('fdx').profile,
};

const tokenLike = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,40}=*$/), anyText(40), fc.constant(''), fc.integer(), fc.constant(null));
const anyJson = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(1e308),
  fc.constant(-1),
  fc.constant('3600'),
  fc.constant('1e3'),
);
const tokenBody = fc.oneof(
  fc
    .record(
      {
        access_token: tokenLike,
        token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'mac', 'DPoP', ''), anyText(12), anyJson),
        expires_in: anyJson,
        refresh_token: tokenLike,
        scope: fc.oneof(fc.string({ maxLength: 30 }), anyJson),
        error: fc.oneof(fc.constantFrom('invalid_grant', 'invalid_client'), anyJson),
        error_description: fc.oneof(anyText(40), fc.constant('ECHO')),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  anyText(100),
  fc.constant(''),
);
const tokenReply = fc.record({
  status: fc.oneof(fc.constantFrom(200, 200, 200, 201, 302, 400, 401, 500, 503), fc.integer({ min: 200, max: 599 })),
  body: tokenBody,
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', ''),
});

/** A token endpoint answering `reply` (ECHO stands for the request it received), recording what it was sent. */
function endpoint(reply: { status: number; body: string; contentType: string }) {
  const seen: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const sent = `${[...request.headers.values()].join(' ')} ${await request.text()}`;
    seen.push(sent);
    // ECHO stands inside a JSON string: a server echoes what it got JSON-escaped, as JSON servers do.
    return new Response(reply.body.replace('ECHO', JSON.stringify(sent).slice(1, -1)), {
      status: reply.status,
      headers: reply.contentType ? { 'content-type': reply.contentType } : {},
    });
  };
  return { fetch, seen };
}

/** Tokens a client may use: a header-safe access token, a finite expiry, unchanged by a JSON round trip. */
/** Finexer's authorization-code flow against the fake token endpoint `fetch`, with `secret` as the client secret. */
function finexerFlow(secret: string, fetch: typeof globalThis.fetch) {
  return createOAuthFlow(profiles.finexer!, {
    clientId: 'client',
    clientSecret: secret,
    redirectUri: 'https://app.example/cb',
    tokenUrl: `${AUTH}/token`,
    fetch,
    now: () => NOW,
  });
}

function expectUsable(tokens: Tokens): void {
  expect(tokens.accessToken).toMatch(/^[\x21-\x7e]+$/);
  if (tokens.expiresAt !== undefined) expect(Number.isFinite(tokens.expiresAt)).toBe(true);
  expect(JSON.parse(JSON.stringify(tokens))).toEqual(JSON.parse(JSON.stringify({ ...tokens })));
  expect(tokens.tokenType.toLowerCase()).toBe('bearer');
}

/** Two grants against one token endpoint: what each call resolves with must be usable, and which canaries it holds. */
const grants = {
  'client credentials (Dexero FD)': (fetch: typeof globalThis.fetch, tail: { secret: string }) => {
    const secret = canary('secret') + tail.secret;
    const authenticator = createAuthenticator(
      profiles['dexero-fd']!,
      { clientId: 'client', clientSecret: secret, tokenUrl: `${AUTH}/token` },
      { baseUrl: AUTH, fetch, now: () => NOW },
    );
    return {
      canaries: [secret, btoa(`client:${new URLSearchParams({ v: secret }).toString().slice(2)}`)],
      run: () => authenticator.getAuthorization(),
      usable: (h: { value: string }) => expect(h.value).toMatch(/^Bearer [\x21-\x7e]+$/),
    };
  },
  'refresh (Finexer)': (fetch: typeof globalThis.fetch, tail: { secret: string; refresh: string }) => {
    const secret = canary('secret') + tail.secret;
    const refreshToken = canary('refresh') + tail.refresh;
    const flow = finexerFlow(secret, fetch);
    return {
      canaries: [secret, refreshToken],
      run: () => flow.refresh({ accessToken: 'old-access-token', refreshToken, tokenType: 'Bearer', raw: {} }),
      usable: expectUsable,
    };
  },
};

describe('property: token responses', () => {
  it.each(Object.keys(grants) as (keyof typeof grants)[])(
    '%s: any token endpoint reply gives usable tokens or a typed error without the credentials',
    async (name) => {
      const count = g.counter(name);
      await fc.assert(
        fc.asyncProperty(tokenReply, fc.record({ secret: secretTail, refresh: refreshTail }), async (reply, tail) => {
          count();
          const grant = grants[name](endpoint(reply).fetch, tail);
          const result = await outcome(() => grant.run() as Promise<never>, name);
          if (result.ok) grant.usable(result.value);
          else {
            expectPorticoError(result.error, TOKEN_CODES);
            expectNoCanary(renderings(result.error), grant.canaries, `${name}: the error`);
          }
        }),
        g.params(1_500),
      );
    },
  );
});

const callbackKey = fc.constantFrom('code', 'state', 'error', 'error_description', 'error_uri', 'error_code', 'x');
describe('property: callback URL parsing', () => {
  it('any callback (URL, query, parameters): tokens only with the right state and a code, else a typed error without code, secret or token', async () => {
    const count = g.counter('callback');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(callbackKey, fc.oneof(fc.constantFrom('STATE', 'CODE', 'access_denied'), anyText(30))), { maxLength: 6 }),
        fc.constantFrom('url', 'relative', 'query', 'params', 'record', 'raw'),
        anyText(60),
        async (pairs, form, raw) => {
          count();
          const secret = canary('secret');
          const code = canary('code');
          const access = canary('access');
          let calls = 0;
          const fetch = async () => {
            calls++;
            return Response.json({ access_token: access, token_type: 'Bearer', expires_in: 3600 });
          };
          const flow = finexerFlow(secret, fetch);
          const { state } = await flow.authorizationUrl();
          const params = new URLSearchParams(
            pairs.map(([k, v]) => [k, v.replace('STATE', state).replace('CODE', code)] as [string, string]),
          );
          const callback =
            form === 'url'
              ? new URL(`https://app.example/cb?${params}`)
              : form === 'relative'
                ? `/cb?${params}#frag`
                : form === 'query'
                  ? `${params}`
                  : form === 'params'
                    ? params
                    : form === 'record'
                      ? Object.fromEntries(params)
                      : raw.replace('STATE', state).replace('CODE', code);
          const result = await outcome(() => flow.exchangeCode(callback, { state }), 'exchangeCode');
          const seen =
            typeof callback === 'string'
              ? new URLSearchParams(
                  callback.includes('?') ? callback.slice(callback.indexOf('?') + 1).split('#')[0] : callback.split('#')[0],
                )
              : callback instanceof URL
                ? callback.searchParams
                : new URLSearchParams(callback as Record<string, string>);
          if (result.ok) {
            expect(result.value.accessToken).toBe(access);
            expect(seen.getAll('state')).toEqual([state]);
            expect(seen.get('error')).toBeNull();
            expect(calls).toBe(1);
          } else {
            expectPorticoError(result.error, ['state_mismatch', 'authorization_error', 'authorization_denied', 'configuration_error']);
            expect(calls).toBe(0);
            // The code is a secret where the callback carries it as the code.
            expectNoCanary(
              renderings(result.error),
              [secret, access, ...(seen.getAll('code').includes(code) ? [code] : [])],
              'a callback error',
            );
          }
        },
      ),
      g.params(1_500),
    );
  });
});

const scheme = fc.constantFrom('http', 'https', 'HTTP', 'com.example.app', 'javascript', 'ht\ttp', 'h\nttp', '');
const host = fc.constantFrom(
  '127.0.0.1',
  'localhost',
  '[::1]',
  'evil.com',
  '127.0.0.1.evil.com',
  'LOCALHOST',
  '127.1',
  '0x7f.0.0.1',
  'app.example.com',
  '',
);
const junk = fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\\', '@', '#', '%00', '\u0000', ':80', ':8080');
const uri = fc.oneof(
  fc
    .tuple(
      junk,
      scheme,
      fc.constantFrom('://', ':/', ':', ':\\\\'),
      junk,
      host,
      junk,
      fc.constantFrom('/cb', '', '/cb?x=1', '/a/../cb'),
      junk,
    )
    .map((p) => p.join('')),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  anyText(40),
);

describe('property: redirect and base URLs', () => {
  it('a redirect URI is accepted only as the URL parser reads it, and plain http only to loopback', () => {
    const count = g.counter('redirect uri');
    fc.assert(
      fc.property(uri, (redirectUri) => {
        count();
        const secret = canary('secret');
        let error: unknown;
        try {
          createOAuthFlow(profiles.finexer!, { clientId: 'client', clientSecret: secret, redirectUri });
        } catch (e) {
          error = e;
        }
        if (error === undefined) {
          const parsed = new URL(redirectUri);
          expect(parsed.href).toBe(redirectUri);
          if (parsed.protocol === 'http:') expect(['127.0.0.1', 'localhost', '[::1]']).toContain(parsed.hostname);
        } else {
          expectPorticoError(error, ['configuration_error', 'insecure_url']);
          expectNoCanary(renderings(error), [secret], 'a redirect URI error');
        }
      }),
      g.params(3_000),
    );
  });

  it('a base URL: a client or a typed error; with a token, https or loopback only, and the token goes to that origin only', async () => {
    const count = g.counter('base url');
    await fc.assert(
      fc.asyncProperty(uri, fc.boolean(), async (baseUrl, withToken) => {
        count();
        const token = canary('token');
        const origins: string[] = [];
        const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
          const request = new Request(input, init);
          if (request.headers.get('authorization')?.includes(token)) origins.push(new URL(request.url).origin);
          return Response.json({ data: [], count: 0, paging: { total: 0 } });
        };
        const result = await outcome(
          () =>
            finexer
              .createClient({ baseUrl, fetch, maxRetries: 0, ...(withToken ? { auth: { accessToken: token } } : {}) })
              .GET('/customers', {}),
          'createClient',
        );
        if (result.ok) {
          expect(result.value.response.status).toBe(200);
          const parsed = new URL(baseUrl);
          if (withToken) {
            expect(
              parsed.protocol === 'https:' ||
                (parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)),
            ).toBe(true);
            expect(origins).toEqual([parsed.origin]);
          }
        } else {
          expectPorticoError(result.error, ['configuration_error', 'insecure_url', 'connection_error']);
          expectNoCanary(renderings(result.error), [token], 'a base URL error');
        }
      }),
      g.params(1_500),
    );
  });
});
