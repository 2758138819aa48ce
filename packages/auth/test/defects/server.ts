// A loopback token endpoint for one describe block, and a dexero-fd client
// credentials grant against it.

import { LoopbackServer, loadProfile } from '@portico/testing';
import { afterAll, beforeAll } from 'vitest';
import { createAuthenticator } from '../../src/index.js';

export const SECRET = 'client-secret-canary-6f1d2a9b7c';
export const dexero = loadProfile('dexero-fd').profile;
export const finexer = loadProfile('finexer').profile;

export function tokenEndpoint(now?: () => number) {
  const it = {
    server: undefined as unknown as LoopbackServer,
    grant: () =>
      createAuthenticator(
        dexero,
        { clientId: 'client-1', clientSecret: SECRET, tokenUrl: `${it.server.url}/token` },
        { baseUrl: it.server.url, now },
      ).getAuthorization(),
  };
  beforeAll(async () => {
    it.server = await new LoopbackServer().start();
  });
  afterAll(() => it.server.close());
  return it;
}
