// The authorization server's rules from the RFCs where the spec is silent:
// a parameter sent twice (RFC 6749 §3.1, §3.2), a loopback redirect URI on
// any port (RFC 8252 §7.3), a token without the operation's scope (RFC 6750
// §3.1).
import { createHash, randomBytes } from 'node:crypto';
import * as finexer from '@portico/finexer';
import { describe, expect, it } from 'vitest';
import { createMock, type Mock } from '../src/index.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** FDX's authorize endpoint with these query parameters, in order (a name may come twice); the mock consents at once. */
async function authorize(mock: Mock, params: [string, string][]) {
  const response = await mock.handle(
    new Request(`http://127.0.0.1/oauth2/v4/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' }),
  );
  const location = response.headers.get('location');
  return { status: response.status, location: location === null ? undefined : new URL(location) };
}

function fdxParams(mock: Mock, challenge = pkce().challenge): [string, string][] {
  return [
    ['client_id', mock.client.clientId!],
    ['redirect_uri', mock.client.redirectUri!],
    ['response_type', 'code'],
    ['code_challenge', challenge],
    ['code_challenge_method', 'S256'],
    ['scope', 'openid accounts'],
    ['state', 'state-1'],
  ];
}

const basic = (mock: Mock) => ({ authorization: `Basic ${btoa(`${mock.client.clientId}:${mock.client.clientSecret}`)}` });

describe('a parameter sent twice (RFC 6749 §3.1)', () => {
  it('authorize: a second code_challenge_method or state is invalid_request; a second client_id or redirect_uri the error page', async () => {
    const mock = createMock('fdx');
    const base = fdxParams(mock);
    for (const extra of [
      ['code_challenge_method', 'plain'],
      ['state', 'state-2'],
      ['scope', 'openid'],
    ] as [string, string][]) {
      const { status, location } = await authorize(mock, [...base, extra]);
      expect(status, extra[0]).toBe(302);
      expect(location?.searchParams.get('error'), extra[0]).toBe('invalid_request');
      expect(location?.searchParams.get('code'), extra[0]).toBeNull();
    }
    for (const extra of [
      ['redirect_uri', 'https://elsewhere.example/cb'],
      ['client_id', 'another-client'],
    ] as [string, string][]) {
      const { status, location } = await authorize(mock, [...base, extra]);
      expect(status, extra[0]).toBe(400);
      expect(location, extra[0]).toBeUndefined();
    }
    // Once each: a code.
    expect((await authorize(mock, base)).location?.searchParams.get('code')).toMatch(/^mock_code_/);
  });

  it('token and revocation: a repeated parameter is invalid_request', async () => {
    const mock = createMock('fdx');
    const { verifier, challenge } = pkce();
    const code = (await authorize(mock, fdxParams(mock, challenge))).location!.searchParams.get('code')!;
    const post = (path: string, params: [string, string][]) =>
      mock.handle(
        new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: { ...FORM, ...basic(mock) }, body: new URLSearchParams(params) }),
      );
    const exchange: [string, string][] = [
      ['grant_type', 'authorization_code'],
      ['client_id', mock.client.clientId!],
      ['code', code],
      ['redirect_uri', mock.client.redirectUri!],
      ['code_verifier', verifier],
    ];
    const twice = await post('/oauth2/v4/token', [...exchange, ['code_verifier', pkce().verifier]]);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ error: 'invalid_request' });
    const tokens = (await (await post('/oauth2/v4/token', exchange)).json()) as { refresh_token: string };
    const revoke = await post('/oauth2/v4/revoke', [
      ['token', tokens.refresh_token],
      ['token', 'mock_rt_another'],
    ]);
    expect(revoke.status).toBe(400);
    expect(await revoke.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('a loopback redirect URI (RFC 8252 §7.3)', () => {
  const registered = ['http://127.0.0.1/callback', 'http://[::1]/cb', 'https://app.example/cb', 'http://localhost/cb'];

  it('is accepted on any port at authorize and token; any other difference, and any other URI, exactly as registered', async () => {
    const mock = createMock('fdx', { client: { redirectUris: registered } });
    const post = (params: [string, string][]) =>
      mock.handle(
        new Request('http://127.0.0.1/oauth2/v4/token', {
          method: 'POST',
          headers: { ...FORM, ...basic(mock) },
          body: new URLSearchParams(params),
        }),
      );
    for (const redirect of ['http://127.0.0.1:49152/callback', 'http://[::1]:8080/cb', 'http://127.0.0.1/callback']) {
      const { verifier, challenge } = pkce();
      const params = fdxParams(mock, challenge).map(([k, v]): [string, string] => [k, k === 'redirect_uri' ? redirect : v]);
      const { status, location } = await authorize(mock, params);
      expect(status, redirect).toBe(302);
      expect(`${location!.origin}${location!.pathname}`, redirect).toBe(redirect);
      const code = location!.searchParams.get('code')!;
      const exchange = (uri: string): [string, string][] => [
        ['grant_type', 'authorization_code'],
        ['client_id', mock.client.clientId!],
        ['code', code],
        ['redirect_uri', uri],
        ['code_verifier', verifier],
      ];
      // The token request names the same URI as the authorization request (RFC 6749 §4.1.3), port and all.
      if (redirect.includes(':49152')) expect((await post(exchange('http://127.0.0.1:49153/callback'))).status).toBe(400);
      expect((await post(exchange(redirect))).status, redirect).toBe(200);
    }
    for (const redirect of [
      'http://127.0.0.1:49152/callback/x',
      'http://127.0.0.1:49152/callback?x=1',
      'http://127.0.0.1:49152/callback#',
      'https://127.0.0.1:49152/callback',
      'HTTP://127.0.0.1:49152/callback',
      'http://127.0.0.1:99999/callback',
      'http://127.0.0.1:49152/other/../callback',
      'http://127.0.0.2:49152/callback',
      'http://localhost:5000/cb',
      'https://app.example:8443/cb',
    ]) {
      const params = fdxParams(mock).map(([k, v]): [string, string] => [k, k === 'redirect_uri' ? redirect : v]);
      const { status, location } = await authorize(mock, params);
      expect(status, redirect).toBe(400);
      expect(location, redirect).toBeUndefined();
    }
  });
});

describe('a valid token without the scope an operation needs (RFC 6750 §3.1)', () => {
  it('is 403 with WWW-Authenticate error="insufficient_scope"; with the scope, answered', async () => {
    const mock = createMock('finexer');
    const through = ((input: RequestInfo | URL, init?: RequestInit) => mock.handle(new Request(input, init))) as typeof fetch;
    const flow = finexer.oauth({ ...(mock.client as never), ...(mock.authOptions as object), fetch: through });
    const tokenFor = async (scope: string[]) => {
      const request = await flow.authorizationUrl({ scope });
      return (await flow.exchangeCode(mock.controller.approve(request.url), { state: request.state })).accessToken;
    };
    const create = (token: string) =>
      mock.handle(
        new Request('http://127.0.0.1/customers', {
          method: 'POST',
          headers: { ...FORM, authorization: `Bearer ${token}` },
          body: new URLSearchParams({ name: 'Jane Smith', email: 'jane@example.com' }),
        }),
      );
    const readOnly = await create(await tokenFor(['customer_read']));
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect((await create(await tokenFor(['customer_read', 'customer_write']))).status).toBe(200);
  });
});
