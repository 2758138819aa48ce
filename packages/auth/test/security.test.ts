// Transport rules: https only except loopback, token endpoint redirects not
// followed, RFC 6749 §2.3.1 Basic encoding, no caller-controlled headers on
// token requests, and the same-origin check the runtime relies on.

import { type DapiEmulator, type DexeroFdEmulator, loadProfile, parseBasic, startDapi, startDexeroFd } from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthenticator, createOAuthFlow, exchangeAccessCode, InsecureUrlError, revokeToken, type Tokens } from '../src/index.js';

let fd: DexeroFdEmulator;
let dapi: DapiEmulator;
beforeAll(async () => {
  [fd, dapi] = await Promise.all([startDexeroFd(), startDapi()]);
});
afterAll(() => Promise.all([fd.close(), dapi.close()]));
beforeEach(() => {
  fd.reset();
  dapi.reset();
});

const fdx = loadProfile('fdx').profile;
const dexero = loadProfile('dexero-fd').profile;
const dapiProfile = loadProfile('dapi').profile;
const tokens: Tokens = { accessToken: 'at', tokenType: 'Bearer', refreshToken: 'rt', raw: {} };
const flowOptions = { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' };

describe('https only, except loopback', () => {
  it.each([
    'http://api.example.com',
    'http://127.0.0.1.nip.io',
    'http://localhost.evil.example',
    'http://10.0.0.1',
    'ftp://api.example.com',
    'ws://127.0.0.1',
  ])('refuses %s as an API, token, authorization or revocation URL, before any request', async (insecure) => {
    const fetchSpy = vi.fn<typeof fetch>();
    expect(() => createAuthenticator(dexero, { accessToken: 'x' }, { baseUrl: insecure })).toThrow(InsecureUrlError);
    expect(() =>
      createAuthenticator(
        dexero,
        { clientId: 'c', clientSecret: 's', tokenUrl: `${insecure}/token` },
        { baseUrl: 'https://api.example', fetch: fetchSpy },
      ),
    ).toThrow(InsecureUrlError);
    expect(() => createOAuthFlow(fdx, { ...flowOptions, baseUrl: insecure, fetch: fetchSpy })).toThrow(InsecureUrlError);
    expect(() =>
      createOAuthFlow(fdx, { ...flowOptions, baseUrl: 'https://as.example', authorizationUrl: `${insecure}/authorize` }),
    ).toThrow(InsecureUrlError);
    expect(() => createOAuthFlow(fdx, { ...flowOptions, baseUrl: 'https://as.example', tokenUrl: `${insecure}/token` })).toThrow(
      InsecureUrlError,
    );
    await expect(
      createOAuthFlow(fdx, { ...flowOptions, baseUrl: 'https://as.example', revocationUrl: `${insecure}/revoke`, fetch: fetchSpy }).revoke(
        tokens,
      ),
    ).rejects.toBeInstanceOf(InsecureUrlError);
    await expect(
      exchangeAccessCode(dapiProfile, { appSecret: 'a', accessCode: 'b', connectionID: 'c' }, { baseUrl: insecure, fetch: fetchSpy }),
    ).rejects.toBeInstanceOf(InsecureUrlError);
    await expect(
      revokeToken(dapiProfile, tokens, { baseUrl: insecure, inputs: { appSecret: 'a', userSecret: 'u' }, fetch: fetchSpy }),
    ).rejects.toBeInstanceOf(InsecureUrlError);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('refuses an http:// redirect URI to a non-loopback host', () => {
    expect(() => createOAuthFlow(fdx, { ...flowOptions, redirectUri: 'http://app.example/cb', baseUrl: 'https://as.example' })).toThrow(
      InsecureUrlError,
    );
  });

  it.each(['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080', 'https://api.example.com'])('accepts %s', (url) => {
    expect(() =>
      createAuthenticator(dexero, { clientId: 'c', clientSecret: 's', tokenUrl: `${url}/token` }, { baseUrl: url }),
    ).not.toThrow();
    expect(() => createOAuthFlow(fdx, { ...flowOptions, redirectUri: `${url}/cb`, baseUrl: url })).not.toThrow();
  });

  it('resolves relative profile URLs under the base path (…/v2 + /auth/ExchangeToken)', async () => {
    const connect = dapi.connect();
    await exchangeAccessCode(
      dapiProfile,
      { appSecret: dapi.appSecret, accessCode: connect.accessCode, connectionID: connect.connectionID },
      { baseUrl: `${dapi.url}/v2/` },
    );
    expect(dapi.requests[0]!.path).toBe('/v2/auth/ExchangeToken');
  });
});

describe('token requests', () => {
  it('does not follow a redirect from the token endpoint', async () => {
    fd.inject('POST /oauth/token.action', { status: 307, headers: { location: `${fd.url}/elsewhere` } });
    const auth = createAuthenticator(
      dexero,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
      { baseUrl: fd.apiBaseUrl },
    );
    await expect(auth.getAuthorization()).rejects.toMatchObject({ code: 'token_response_error', status: 307 });
    expect(fd.requests.map((r) => r.path)).toEqual(['/oauth/token.action']);
  });

  it('sends fetch a manual-redirect POST whose only Authorization is the computed one', async () => {
    const calls: RequestInit[] = [];
    const spy: typeof fetch = async (input, init) => {
      calls.push(init!);
      return fetch(input, init);
    };
    const auth = createAuthenticator(
      dexero,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
      { baseUrl: fd.apiBaseUrl, fetch: spy },
    );
    await auth.getAuthorization();
    expect(calls[0]).toMatchObject({ method: 'POST', redirect: 'manual' });
    expect(Object.keys(calls[0]!.headers as Record<string, string>).sort()).toEqual(['accept', 'authorization', 'content-type']);
  });

  it('an input named like a header stays in the body and never becomes a header', async () => {
    const connect = dapi.connect();
    const inputs = {
      appSecret: dapi.appSecret,
      accessCode: connect.accessCode,
      connectionID: connect.connectionID,
      authorization: 'Bearer attacker',
    };
    await exchangeAccessCode(dapiProfile, inputs, { baseUrl: dapi.apiBaseUrl });
    expect(dapi.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each([
    ['s3cr:et+/%', 'dexero-client'],
    ['pa ss&word=ü', 'clïent:id'],
  ])('client_secret_basic form-encodes id and secret before Base64 (RFC 6749 §2.3.1): secret %j', async (secret, id) => {
    const server = await startDexeroFd({ clientId: id, clientSecret: secret });
    try {
      const auth = createAuthenticator(
        dexero,
        { clientId: id, clientSecret: secret, tokenUrl: server.tokenUrl },
        { baseUrl: server.apiBaseUrl },
      );
      await auth.getAuthorization();
      const header = server.requests[0]!.headers.authorization!;
      const raw = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
      expect(raw).toBe(`${new URLSearchParams({ v: id }).toString().slice(2)}:${new URLSearchParams({ v: secret }).toString().slice(2)}`);
      expect(raw.split(':')).toHaveLength(2);
      expect(parseBasic(header)).toEqual({ id, secret });
    } finally {
      await server.close();
    }
  });
});
