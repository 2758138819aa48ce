// @portico/dapi against the mock: Connect's access code exchanged for a
// permanent token (no expiry, no refresh), every call a JSON POST with the
// envelope, user-input rounds, DelinkUser ending the grant.
import { AuthenticationError, createClient, exchangeToken, RateLimitError, revokeGrant, withUserInput } from '@portico/dapi';
import { describe, expect, it } from 'vitest';
import { MODES, useMock } from './support.js';

describe.each(MODES)('dapi through %s', (mode) => {
  const t = useMock('dapi', mode);

  async function signIn() {
    const linked = t.mock.controller.connect();
    const tokens = await exchangeToken({ appSecret: t.mock.client.appSecret, ...linked }, t.authOptions);
    const body = { appSecret: t.mock.client.appSecret, userSecret: linked.userSecret };
    return {
      linked,
      tokens,
      body,
      client: createClient({ ...t.clientOptions, auth: { accessToken: tokens.accessToken }, throwOnError: true }),
    };
  }

  it("exchanges Connect's access code for a permanent token and calls the API", async () => {
    const { tokens, body, client } = await signIn();
    expect(tokens.expiresAt).toBeUndefined();
    const { data } = await client.POST('/data/identity/get', { body });
    expect(data.status).toBe('done');
    // A permanent token does not expire.
    t.mock.controller.expireAccessTokens();
    await client.POST('/data/accounts/get', { body });
  });

  it('an access code works once, and only with the app secret', async () => {
    const linked = t.mock.controller.connect();
    await expect(exchangeToken({ appSecret: 'another-app-secret', ...linked }, t.authOptions)).rejects.toMatchObject({
      code: 'token_response_error',
    });
    await exchangeToken({ appSecret: t.mock.client.appSecret, ...linked }, t.authOptions);
    await expect(exchangeToken({ appSecret: t.mock.client.appSecret, ...linked }, t.authOptions)).rejects.toMatchObject({
      code: 'token_response_error',
    });
  });

  it('answers the questions of a user-input round, then returns the data', async () => {
    const { body, client } = await signIn();
    t.mock.controller.requireUserInput('getAccounts', [{ id: 'otp', query: 'Enter the code sent to your phone' }]);
    t.mock.controller.requireUserInput('getAccounts', [{ id: 'secret_question', query: 'Your first school?' }]);
    const asked: string[] = [];
    const { data } = await withUserInput(client, '/data/accounts/get', { body }, (inputs) =>
      inputs.map((input) => {
        asked.push(input.id);
        return { ...input, answer: '123456' };
      }),
    );
    expect(asked).toEqual(['otp', 'secret_question']);
    expect(data?.status).toBe('done');
  });

  it('retries a 429 on a retry-safe POST after its Retry-After', async () => {
    const { body, client } = await signIn();
    t.mock.controller.fail('getBalance', { kind: 'rate-limit', retryAfterSeconds: 1 });
    await client.POST('/data/balance/get', { body: { ...body, accountID: 'acc-1' } });
    t.mock.controller.fail('getBalance', { kind: 'rate-limit', retryAfterSeconds: 1 });
    const once = createClient({
      ...t.clientOptions,
      auth: { accessToken: (await signIn()).tokens.accessToken },
      throwOnError: true,
      maxRetries: 0,
    });
    await expect(once.POST('/data/balance/get', { body: { ...body, accountID: 'acc-1' } })).rejects.toBeInstanceOf(RateLimitError);
  });

  it('DelinkUser ends the grant: the token is refused after it', async () => {
    const { linked, tokens, body, client } = await signIn();
    await revokeGrant(tokens, { appSecret: t.mock.client.appSecret, userSecret: linked.userSecret }, t.authOptions);
    await expect(client.POST('/data/identity/get', { body })).rejects.toBeInstanceOf(AuthenticationError);
    const other = await signIn();
    t.mock.controller.revokeGrants();
    await expect(other.client.POST('/data/identity/get', { body: other.body })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("a data or payment call with a wrong appSecret, or another user's userSecret, is the documented 400", async () => {
    const alice = await signIn();
    const bob = await signIn();
    const transfer = { senderID: 'acc-1', amount: 1, receiverID: 'ben-1' };
    const wrong: [object, RegExp][] = [
      [{ ...alice.body, appSecret: 'not-the-app-secret' }, /^appSecret is not the client's$/],
      [{ ...alice.body, userSecret: bob.linked.userSecret }, /^userSecret does not belong to this access token's user$/],
    ];
    for (const [body, msg] of wrong) {
      const refused = { status: 400, body: { success: false, msg: expect.stringMatching(msg) } };
      await expect(alice.client.POST('/data/accounts/get', { body: body as typeof alice.body })).rejects.toMatchObject(refused);
      await expect(
        alice.client.POST('/payment/transfer/create', { body: { ...(body as typeof alice.body), ...transfer } }),
      ).rejects.toMatchObject(refused);
    }
    // Each their own: answered.
    await alice.client.POST('/data/accounts/get', { body: alice.body });
    await alice.client.POST('/payment/transfer/create', { body: { ...alice.body, ...transfer } });
    await bob.client.POST('/data/accounts/get', { body: bob.body });
  });

  it('a request the spec refuses is the documented envelope error', async () => {
    const { body, client } = await signIn();
    await expect(
      client.POST('/data/transactions/get', { body: { ...body, accountID: 'a', fromDate: 'yesterday', toDate: '2024-01-31' } }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });
});
