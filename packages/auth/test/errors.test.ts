// Typed errors with stable codes: every RFC 6749 §5.2 error code, malformed
// token responses, and authorization callback errors.

import { fileURLToPath } from 'node:url';
import { type DexeroFdEmulator, loadProfile, startDexeroFd } from '@portico/testing';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as everything from '../src/index.js';
import {
  AuthorizationCallbackError,
  AuthorizationDeniedError,
  ConfigurationError,
  ConnectionError,
  createAuthenticator,
  createOAuthFlow,
  InsecureUrlError,
  OAuthError,
  PorticoError,
  ReauthorizationRequiredError,
  ResponseTooLargeError,
  RevocationError,
  StateMismatchError,
  TokenResponseError,
  TokenStoreError,
  TokenTimeoutError,
  UnsupportedTokenTypeError,
} from '../src/index.js';

let fd: DexeroFdEmulator;
beforeAll(async () => {
  fd = await startDexeroFd();
});
afterAll(() => fd.close());
beforeEach(() => fd.reset());

const TOKEN = 'POST /oauth/token.action';
// The dexero-fd profile, plus a refresh token pointer so that field is checked too.
const dexero = loadProfile('dexero-fd').profile;
const profile = { ...dexero, token: { ...dexero.token, response: { ...dexero.token.response, refreshToken: '/refresh_token' } } };
const auth = () =>
  createAuthenticator(profile, { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl }, { baseUrl: fd.apiBaseUrl });

describe('error classes', () => {
  it.each([
    [new ConfigurationError('x'), 'configuration_error'],
    [new InsecureUrlError('http://a'), 'insecure_url'],
    [new OAuthError({ error: 'invalid_grant', status: 400 }), 'oauth_error'],
    [new TokenResponseError('x', { status: 200 }), 'token_response_error'],
    [new ConnectionError('POST', 'https://a.example/token', new Error('y')), 'connection_error'],
    [new AuthorizationCallbackError({ error: 'server_error' }), 'authorization_error'],
    [new AuthorizationDeniedError({ error: 'access_denied' }), 'authorization_denied'],
    [new StateMismatchError('x'), 'state_mismatch'],
    [new ReauthorizationRequiredError('x'), 'reauthorization_required'],
    [new RevocationError('x', { retryable: true }), 'revocation_error'],
    [new UnsupportedTokenTypeError({ status: 400 }), 'unsupported_token_type'],
    [new TokenStoreError('x', new Error('y')), 'token_store_error'],
    [new TokenTimeoutError('x', 1), 'token_timeout'],
    [new ResponseTooLargeError(200, 1), 'response_too_large'],
  ])('%s has code %s, its own name, and extends PorticoError', (error, code) => {
    expect(error).toBeInstanceOf(PorticoError);
    expect(error.code).toBe(code);
    expect(error.name).toBe(error.constructor.name);
    expect(String(error)).toBe(`${error.constructor.name}: ${error.message}`);
    expect(error.stack).toMatch(new RegExp(`^${error.constructor.name}: `));
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: error.constructor.name, code, message: error.message });
  });

  // A bundler may rename classes; the names users see and match on must not change with it.
  it('JSON of an error whose cause a test runner replaced with a prototype-less copy still works (vitest does that)', () => {
    const error = new TokenStoreError('the token store failed to save', new Error('connection reset'));
    Object.defineProperty(error, 'cause', { value: Object.assign(Object.create(null), { message: 'connection reset' }) });
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'TokenStoreError', cause: { message: 'connection reset' } });
    Object.defineProperty(error, 'cause', { value: Object.create(null) });
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ cause: { message: '[object]' } });
  });

  it('every error keeps its name and code in a minified bundle that renames the classes', async () => {
    const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const bundled = await build({
      entryPoints: [source],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    const minified = (await import(
      `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0]!.text).toString('base64')}`
    )) as typeof everything;
    const exported: Record<string, unknown> = { ...everything };
    const names = Object.keys(exported).filter((name) => name.endsWith('Error'));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const Class = minified[name as keyof typeof everything] as unknown as new (...args: unknown[]) => Error & { code: string };
      const original = exported[name] as new (...args: unknown[]) => Error & { code: string };
      expect(Class.name, 'the bundle renamed the class').not.toBe(name);
      const args =
        name === 'ConnectionError'
          ? ['GET', '/x', new Error('y')]
          : name.startsWith('Authorization')
            ? [{ error: 'e' }]
            : ['x', { status: 400, retryable: false }];
      const error = new Class(...args);
      expect(error.name).toBe(name);
      expect(error.code).toBe(new original(...args).code);
    }
  });
});

describe('token endpoint error responses (RFC 6749 §5.2)', () => {
  it.each([
    ['invalid_request', 400],
    ['invalid_client', 401],
    ['invalid_grant', 400],
    ['unauthorized_client', 400],
    ['unsupported_grant_type', 400],
    ['invalid_scope', 400],
  ])('%s (HTTP %i) is an OAuthError with error, errorDescription, errorUri and status', async (error, status) => {
    fd.inject(TOKEN, { status, body: { error, error_description: `about ${error}`, error_uri: 'https://docs.example/errors' } });
    const thrown = await auth()
      .getAuthorization()
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(OAuthError);
    expect(thrown).toMatchObject({
      code: 'oauth_error',
      error,
      errorDescription: `about ${error}`,
      errorUri: 'https://docs.example/errors',
      status,
    });
    expect((thrown as Error).message).toBe(`${error}: about ${error} (HTTP ${status})`);
  });

  it.each([
    ['a non-JSON 200', { status: 200, body: 'access_token=abc' }, /not a JSON object/],
    ['a JSON array', { status: 200, body: [] }, /not a JSON object/],
    ['no access_token', { status: 200, body: { token_type: 'bearer' } }, /no access token/],
    ['no token_type', { status: 200, body: { access_token: 'a' } }, /no token type/],
    ['a negative expires_in', { status: 200, body: { access_token: 'a', token_type: 'bearer', expires_in: -5 } }, /expires_in/],
    ['a non-numeric expires_in', { status: 200, body: { access_token: 'a', token_type: 'bearer', expires_in: 'soon' } }, /expires_in/],
    ['a non-string refresh_token', { status: 200, body: { access_token: 'a', token_type: 'bearer', refresh_token: 42 } }, /refresh token/],
    ['an HTTP 502 without a JSON body', { status: 502, body: '<html>bad gateway</html>' }, /HTTP 502 without a JSON body/],
  ])('%s is a TokenResponseError carrying the status', async (_name, reply, message) => {
    fd.inject(TOKEN, reply);
    const thrown = await auth()
      .getAuthorization()
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(TokenResponseError);
    expect(thrown).toMatchObject({ status: reply.status, message: expect.stringMatching(message) });
  });

  it('a numeric-string expires_in is accepted (some servers send "3600")', async () => {
    fd.inject(TOKEN, { status: 200, body: { access_token: 'a', token_type: 'bearer', expires_in: '3600' } });
    await expect(auth().getAuthorization()).resolves.toEqual({ name: 'Authorization', value: 'Bearer a' });
  });

  it('a 2xx with an error and no token is an OAuthError', async () => {
    fd.inject(TOKEN, { status: 200, body: { error: 'invalid_scope' } });
    await expect(auth().getAuthorization()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_scope', status: 200 });
  });
});

describe('authorization callback errors', () => {
  const finexer = loadProfile('finexer').profile;
  const flow = () => createOAuthFlow(finexer, { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' });

  it('access_denied is an AuthorizationDeniedError with error_code, description and uri', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    const error = await flow()
      .exchangeCode(
        `https://app.example/cb?error=access_denied&error_code=user_cancelled&error_description=No+thanks&error_uri=https%3A%2F%2Fdocs&state=${state}`,
        { state },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationDeniedError);
    expect(error).toMatchObject({
      error: 'access_denied',
      errorCode: 'user_cancelled',
      errorDescription: 'No thanks',
      errorUri: 'https://docs',
    });
  });

  it('another error is an AuthorizationCallbackError (not a denial)', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    const error = await flow()
      .exchangeCode({ error: 'temporarily_unavailable', state }, { state })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationCallbackError);
    expect(error).not.toBeInstanceOf(AuthorizationDeniedError);
  });

  it('an error callback with a wrong state is a StateMismatchError', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    await expect(flow().exchangeCode({ error: 'access_denied', state: 'forged-state-forged-state' }, { state })).rejects.toBeInstanceOf(
      StateMismatchError,
    );
  });

  it('a repeated parameter or a callback with neither code nor error is refused', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    await expect(flow().exchangeCode(`?code=a&code=b&state=${state}`, { state })).rejects.toMatchObject({
      code: 'authorization_error',
      error: 'invalid_request',
    });
    await expect(flow().exchangeCode(new URLSearchParams({ state }), { state })).rejects.toMatchObject({
      code: 'authorization_error',
      error: 'invalid_request',
    });
  });

  it('takes the callback as a full URL, a URL object, a relative req.url, a query string, URLSearchParams or a record', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    const query = `error=access_denied&state=${state}`;
    for (const input of [
      `https://app.example/cb?${query}`,
      new URL(`https://app.example/cb?${query}`),
      `/cb?${query}`,
      `?${query}`,
      query,
      new URLSearchParams(query),
      { error: 'access_denied', state },
    ]) {
      await expect(flow().exchangeCode(input, { state })).rejects.toBeInstanceOf(AuthorizationDeniedError);
    }
  });

  it('a relative profile URL without a base URL is a ConfigurationError at creation', () => {
    expect(() =>
      createOAuthFlow(loadProfile('fdx').profile, { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' }),
    ).toThrow(ConfigurationError);
  });

  it('a provider without the grant refuses the flow at creation', () => {
    expect(() =>
      createOAuthFlow(loadProfile('dexero-fd').profile, { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' }),
    ).toThrow(/authorization_code/);
    expect(() =>
      createAuthenticator(loadProfile('fdx').profile, { clientId: 'c', clientSecret: 's' }, { baseUrl: 'https://api.example' }),
    ).toThrow(/client_credentials/);
  });
});
