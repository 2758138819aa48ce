import { AuthenticationError, createClient, exchangeToken, revokeGrant, withUserInput } from '@portico/dapi';
import { describe, expect, it } from 'vitest';
import { useFake, WAYS } from './mock-fake.js';

describe.each(WAYS)('dapi, through %s', (way) => {
  const fake = useFake('dapi', way);

  // A user links their bank through Dapi Connect (the fake plays it); the app exchanges the access code for a permanent token.
  async function signIn() {
    const { accessCode, connectionID, userSecret } = fake.mock.controller.connect();
    const { appSecret } = fake.mock.client;
    const tokens = await exchangeToken({ appSecret, accessCode, connectionID }, fake.authOptions);
    const client = createClient({ ...fake.clientOptions, auth: { accessToken: tokens.accessToken }, throwOnError: true });
    return { tokens, client, secrets: { appSecret, userSecret } };
  }

  it('signs in (access-code exchange) and calls the API', async () => {
    const { client, secrets } = await signIn();
    const { data } = await client.POST('/data/identity/get', { body: secrets });
    expect(data.status).toBe('done');
  });

  // A permanent token has no refresh: once the grant ends, the API refuses it and the user must link again.
  it('a revoked grant (DelinkUser) ends in AuthenticationError', async () => {
    const { tokens, client, secrets } = await signIn();
    await revokeGrant(tokens, secrets, fake.authOptions);
    await expect(client.POST('/data/identity/get', { body: secrets })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('waits out a 429 and its Retry-After', async () => {
    const { client, secrets } = await signIn();
    fake.mock.controller.fail('getIdentity', { kind: 'rate-limit', retryAfterSeconds: 1 });
    expect((await client.POST('/data/identity/get', { body: secrets })).data.status).toBe('done');
    expect(fake.mock.controller.requests.filter((r) => r.operationId === 'getIdentity')).toHaveLength(2);
  });

  it('answers a user-input round (an OTP), then gets the data', async () => {
    const { client, secrets } = await signIn();
    fake.mock.controller.requireUserInput('getAccounts', [{ id: 'otp', query: 'Enter the code sent to your phone' }]);
    const { data } = await withUserInput(client, '/data/accounts/get', { body: secrets }, (inputs) =>
      inputs.map((input) => ({ ...input, answer: '123456' })),
    );
    expect(data?.status).toBe('done');
  });
});
