// Cloudflare Workers' fetch throws "Illegal invocation" unless `this` is the
// global (or undefined). The fetch a user passes, or the global one the
// runtime hands over, must therefore be called unbound on every request the
// auth layer makes: each grant, refresh and revocation here goes through a
// fetch that refuses any other `this`, as workerd's does.

import {
  type DapiEmulator,
  type DexeroFdEmulator,
  type FdxEmulator,
  loadProfile,
  startDapi,
  startDexeroFd,
  startFdx,
} from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, createOAuthFlow, exchangeAccessCode, revokeToken } from '../src/index.js';

const redirectUri = 'https://app.example/callback';
let fd: DexeroFdEmulator;
let fdx: FdxEmulator;
let dapi: DapiEmulator;
const receivers: unknown[] = [];

/** Fetch as Workers have it: a method of the global object, refused on any other receiver. */
function workersFetch(this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  receivers.push(this);
  if (this !== undefined && this !== globalThis)
    throw new TypeError('Illegal invocation: function called with incorrect `this` reference.');
  return globalThis.fetch(input, init);
}

beforeAll(async () => {
  [fd, fdx, dapi] = await Promise.all([startDexeroFd(), startFdx({ redirectUris: [redirectUri] }), startDapi()]);
});
afterAll(() => Promise.all([fd.close(), fdx.close(), dapi.close()]));

describe('the fetch a client is given is called unbound', () => {
  it('client credentials', async () => {
    receivers.length = 0;
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
      { baseUrl: fd.apiBaseUrl, fetch: workersFetch },
    );
    await expect(auth.getAuthorization()).resolves.toMatchObject({ name: 'Authorization', value: expect.stringMatching(/^Bearer /) });
    expect(receivers).toEqual([undefined]);
  });

  it('authorization code, refresh and revocation', async () => {
    receivers.length = 0;
    const flow = createOAuthFlow(loadProfile('fdx').profile, {
      clientId: fdx.clientId,
      clientSecret: fdx.clientSecret,
      redirectUri,
      baseUrl: fdx.url,
      fetch: workersFetch,
    });
    const request = await flow.authorizationUrl({ scope: 'accounts' });
    const callback = (await fetch(request.url, { redirect: 'manual' })).headers.get('location')!;
    const tokens = await flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! });
    const refreshed = await flow.refresh(tokens);
    await flow.revoke(refreshed);
    expect(receivers).toEqual([undefined, undefined, undefined]);
  });

  it('access-code exchange and revocation outside a flow', async () => {
    receivers.length = 0;
    const profile = loadProfile('dapi').profile;
    const link = dapi.connect();
    const tokens = await exchangeAccessCode(
      profile,
      { appSecret: dapi.appSecret, accessCode: link.accessCode, connectionID: link.connectionID },
      { baseUrl: dapi.apiBaseUrl, fetch: workersFetch },
    );
    await revokeToken(profile, tokens, {
      baseUrl: dapi.apiBaseUrl,
      inputs: { appSecret: dapi.appSecret, userSecret: link.userSecret },
      fetch: workersFetch,
    });
    expect(receivers).toEqual([undefined, undefined]);
  });
});
