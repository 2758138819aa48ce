// Token responses a hostile or broken server can send: each ends in a typed
// error, or in tokens that are safe to put in a header and to store as JSON.

import { rejectionOf, tokenReply } from '@portico/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createOAuthFlow, TokenResponseError } from '../../src/index.js';
import { finexer, SECRET, tokenEndpoint } from './server.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('token endpoint responses', () => {
  const endpoint = tokenEndpoint(() => NOW);
  const server = () => endpoint.server;
  const grant = () => endpoint.grant();
  beforeEach(() => server().reset());

  it('expires_in: 1e308 is clamped to a finite expiry that survives JSON', async () => {
    server().inject('POST /token', () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"access_token":"at-0123456789","token_type":"Bearer","expires_in":1e308}',
    }));
    const flow = createOAuthFlow(finexer, {
      clientId: 'c',
      clientSecret: SECRET,
      redirectUri: 'https://app.example/cb',
      baseUrl: server().url,
      tokenUrl: `${server().url}/token`,
      now: () => NOW,
    });
    const tokens = await flow.refresh({ accessToken: 'old-0123456789', refreshToken: 'refresh-0123456789', tokenType: 'Bearer', raw: {} });
    expect(Number.isFinite(tokens.expiresAt)).toBe(true);
    expect(tokens.expiresAt).toBeLessThanOrEqual(NOW + 10 * 366 * 24 * 3600 * 1000);
    expect(tokens.expiresAt).toBeGreaterThan(NOW + 365 * 24 * 3600 * 1000);
    expect(JSON.parse(JSON.stringify(tokens)).expiresAt).toBe(tokens.expiresAt);
  });

  it.each(['mac', 'DPoP', 'N_A'])('token_type %j is refused: the profile sends Bearer tokens only (RFC 6749 §7.1)', async (type) => {
    server().inject('POST /token', () => tokenReply(200, { access_token: 'at-0123456789', token_type: type, expires_in: 3600 }));
    const error = await rejectionOf(grant());
    expect(error).toBeInstanceOf(TokenResponseError);
    expect((error as Error).message).toMatch(/token type/);
  });

  it.each(['Bearer', 'bearer', 'BEARER'])('token_type %j is accepted (case-insensitive, RFC 6749 §5.1)', async (type) => {
    server().inject('POST /token', () => tokenReply(200, { access_token: 'at-0123456789', token_type: type, expires_in: 3600 }));
    await expect(grant()).resolves.toEqual({ name: 'Authorization', value: 'Bearer at-0123456789' });
  });
});

describe('stored expiry', () => {
  it.each([null, Infinity])('expiresAt %s (a token that never expires, as JSON stored it) reads as no expiry', async (expiresAt) => {
    const flow = createOAuthFlow(finexer, { clientId: 'c', clientSecret: SECRET, redirectUri: 'https://app.example/cb' });
    const session = flow.session({ accessToken: 'at-0123456789', tokenType: 'Bearer', raw: {}, expiresAt } as never);
    const tokens = await session.tokens();
    expect(tokens?.expiresAt).toBeUndefined();
    await expect(session.getAuthorization()).resolves.toEqual({ name: 'Authorization', value: 'Bearer at-0123456789' });
  });

  it.each(['soon', Number.NaN, {}])('expiresAt %s is a ConfigurationError', (expiresAt) => {
    const flow = createOAuthFlow(finexer, { clientId: 'c', clientSecret: SECRET, redirectUri: 'https://app.example/cb' });
    expect(() => flow.session({ accessToken: 'at-0123456789', tokenType: 'Bearer', raw: {}, expiresAt } as never)).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});
