// Defect 3: an access token a header cannot carry is refused where it
// arrives (token response, static token, stored or given tokens), with a
// typed error that does not contain it.

import { rejectionOf, tokenReply } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, createOAuthFlow, TokenResponseError } from '../../src/index.js';
import { expectNoSecrets } from '../helpers.js';
import { dexero, finexer, SECRET, tokenEndpoint } from './server.js';

const BAD = ['tok\nen-0123456789', 'tok en-0123456789', 'tokén-0123456789', 'tok\u0000en-0123456789', 'tok\r\nx-injected: 0123456789'];

describe('access tokens a header cannot carry', () => {
  const endpoint = tokenEndpoint();
  const server = () => endpoint.server;
  const grant = () => endpoint.grant();

  it.each(BAD)('an access token a header cannot carry (%j) is a TokenResponseError without it', async (token) => {
    server().reset();
    server().inject('POST /token', () => tokenReply(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    const error = await rejectionOf(grant());
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error).toMatchObject({ code: 'token_response_error' });
    expectNoSecrets(error, [token, 'en-0123456789']);
  });

  it.each(BAD)('a static token %j is a ConfigurationError without it', (token) => {
    let error: unknown;
    try {
      createAuthenticator(dexero, { accessToken: token }, { baseUrl: server().url });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'configuration_error' });
    expectNoSecrets(error, [token, 'en-0123456789']);
  });

  it.each(BAD)('tokens %j handed to a session are a ConfigurationError without them', (token) => {
    const flow = createOAuthFlow(finexer, { clientId: 'c', clientSecret: SECRET, redirectUri: 'https://app.example/cb' });
    let error: unknown;
    try {
      flow.session({ accessToken: token, tokenType: 'Bearer', raw: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'configuration_error' });
    expectNoSecrets(error, [token, 'en-0123456789']);
  });

  it('a refresh token with a newline is a TokenResponseError without it', async () => {
    server().reset();
    server().inject('POST /token', () =>
      tokenReply(200, { access_token: 'at-0123456789', refresh_token: 'rt-0123456789\nabc', token_type: 'Bearer' }),
    );
    const flow = createOAuthFlow(finexer, {
      clientId: 'c',
      clientSecret: SECRET,
      redirectUri: 'https://app.example/cb',
      baseUrl: server().url,
      tokenUrl: `${server().url}/token`,
    });
    const error = await rejectionOf(
      flow.refresh({ accessToken: 'old-0123456789', refreshToken: 'refresh-0123456789', tokenType: 'Bearer', raw: {} }),
    );
    expect(error).toBeInstanceOf(TokenResponseError);
    expectNoSecrets(error, ['rt-0123456789']);
  });
});
