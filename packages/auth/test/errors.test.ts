// Typed errors with stable codes: every RFC 6749 §5.2 error code, malformed
// token responses, and authorization callback errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthorizationDeniedError,
  AuthorizationError,
  ConfigurationError,
  createAuthenticator,
  createOAuthFlow,
  InsecureUrlError,
  NetworkError,
  OAuthError,
  PorticoAuthError,
  ReauthorizationRequiredError,
  RevocationError,
  StateMismatchError,
  TokenResponseError,
  UnsupportedTokenTypeError,
} from '../src/index.js';
import { loadProfile, startDexeroFd, type DexeroFdEmulator } from '@portico/testing';

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
    [new NetworkError('x', new Error('y')), 'network_error'],
    [new AuthorizationError({ error: 'server_error' }), 'authorization_error'],
    [new AuthorizationDeniedError({ error: 'access_denied' }), 'authorization_denied'],
    [new StateMismatchError('x'), 'state_mismatch'],
    [new ReauthorizationRequiredError('x'), 'reauthorization_required'],
    [new RevocationError('x', { retryable: true }), 'revocation_error'],
    [new UnsupportedTokenTypeError({ status: 400 }), 'unsupported_token_type'],
  ])('%s has code %s, its own name, and extends PorticoAuthError', (error, code) => {
    expect(error).toBeInstanceOf(PorticoAuthError);
    expect(error.code).toBe(code);
    expect(error.name).toBe(error.constructor.name);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: error.constructor.name, code, message: error.message });
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
    const thrown = await auth().getAuthorization().catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(OAuthError);
    expect(thrown).toMatchObject({ code: 'oauth_error', error, errorDescription: `about ${error}`, errorUri: 'https://docs.example/errors', status });
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
    const thrown = await auth().getAuthorization().catch((e: unknown) => e);
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
      .exchangeCode(`https://app.example/cb?error=access_denied&error_code=user_cancelled&error_description=No+thanks&error_uri=https%3A%2F%2Fdocs&state=${state}`, { state })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationDeniedError);
    expect(error).toMatchObject({ error: 'access_denied', errorCode: 'user_cancelled', errorDescription: 'No thanks', errorUri: 'https://docs' });
  });

  it('another error is an AuthorizationError (not a denial)', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    const error = await flow().exchangeCode({ error: 'temporarily_unavailable', state }, { state }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationError);
    expect(error).not.toBeInstanceOf(AuthorizationDeniedError);
  });

  it('an error callback with a wrong state is a StateMismatchError', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    await expect(flow().exchangeCode({ error: 'access_denied', state: 'forged-state-forged-state' }, { state })).rejects.toBeInstanceOf(StateMismatchError);
  });

  it('a repeated parameter or a callback with neither code nor error is refused', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    await expect(flow().exchangeCode(`?code=a&code=b&state=${state}`, { state })).rejects.toMatchObject({ code: 'authorization_error', error: 'invalid_request' });
    await expect(flow().exchangeCode(new URLSearchParams({ state }), { state })).rejects.toMatchObject({ code: 'authorization_error', error: 'invalid_request' });
  });

  it('takes the callback as a full URL, a URL object, a relative req.url, a query string, URLSearchParams or a record', async () => {
    const { state } = await flow().authorizationUrl({ scope: 'customer_read' });
    const query = `error=access_denied&state=${state}`;
    for (const input of [`https://app.example/cb?${query}`, new URL(`https://app.example/cb?${query}`), `/cb?${query}`, `?${query}`, query, new URLSearchParams(query), { error: 'access_denied', state }]) {
      await expect(flow().exchangeCode(input, { state })).rejects.toBeInstanceOf(AuthorizationDeniedError);
    }
  });

  it('a relative profile URL without a base URL is a ConfigurationError at creation', () => {
    expect(() => createOAuthFlow(loadProfile('fdx').profile, { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' })).toThrow(ConfigurationError);
  });

  it('a provider without the grant refuses the flow at creation', () => {
    expect(() => createOAuthFlow(loadProfile('dexero-fd').profile, { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' })).toThrow(/authorization_code/);
    expect(() => createAuthenticator(loadProfile('fdx').profile, { clientId: 'c', clientSecret: 's' }, { baseUrl: 'https://api.example' })).toThrow(/client_credentials/);
  });
});
