// Defect 5: every token and revocation endpoint response is read within a
// small limit (1 MiB), whatever its headers declare.

import { rejectionOf } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { ResponseTooLargeError, revokeToken } from '../../src/index.js';
import { expectNoSecrets } from '../helpers.js';
import { finexer, SECRET, tokenEndpoint } from './server.js';

const chunk = Buffer.alloc(1024 * 1024, 0x20);
const huge = (status: number) => () => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.concat([Buffer.from('{"access_token":"a'), ...Array.from({ length: 200 }, () => chunk), Buffer.from('"}')]),
});

describe('token endpoint response size', () => {
  const endpoint = tokenEndpoint();
  const server = () => endpoint.server;
  const grant = () => endpoint.grant();

  it.each([200, 400])('a 200 MiB token response (HTTP %i) is refused after 1 MiB: ResponseTooLargeError', async (status) => {
    server().reset();
    server().inject('POST /token', huge(status));
    const error = await rejectionOf(grant());
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toMatchObject({ code: 'response_too_large', status, limitBytes: 1024 * 1024 });
    expectNoSecrets(error, [SECRET]);
  });

  it('a 200 MiB revocation response is refused the same way', async () => {
    server().reset();
    server().inject('POST /revoke', huge(200));
    const tokens = { accessToken: 'access-0123456789', refreshToken: 'refresh-0123456789', tokenType: 'Bearer', raw: {} };
    const error = await rejectionOf(
      revokeToken(finexer, tokens, { revocationUrl: `${server().url}/revoke`, clientId: 'c', clientSecret: SECRET }),
    );
    expect(error).toMatchObject({ code: 'response_too_large', limitBytes: 1024 * 1024 });
    expectNoSecrets(error, [SECRET, tokens.accessToken, tokens.refreshToken]);
  });
});
