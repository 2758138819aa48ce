import { describe, expectTypeOf, it } from 'vitest';
import { createClient, exchangeToken, revokeGrant, type UserInput, withUserInput } from '../../packages/dapi/src/index.ts';

const client = createClient({ auth: { accessToken: 'token' } });

describe('@portico/dapi types', () => {
  it('accepts correct calls', async () => {
    const { data } = await client.POST('/data/transactions/get', {
      body: { appSecret: 'a', userSecret: 'u', accountID: 'acc', fromDate: '2024-01-01', toDate: '2024-01-31' },
    });
    expectTypeOf(data?.success).toEqualTypeOf<boolean | undefined>();
    expectTypeOf(exchangeToken).parameter(0).toEqualTypeOf<{ appSecret: string; accessCode: string; connectionID: string }>();
  });

  it('rejects a wrong path, a missing required field and a wrong body field', async () => {
    // @ts-expect-error: every Dapi endpoint is POST
    await client.GET('/data/identity/get');
    // @ts-expect-error: fromDate and toDate are required
    await client.POST('/data/transactions/get', { body: { appSecret: 'a', userSecret: 'u', accountID: 'acc' } });
    // @ts-expect-error: beneficiary type is same, local or intl
    await client.POST('/payment/beneficiaries/create', { body: { appSecret: 'a', userSecret: 'u', type: 'galactic' } });
    // @ts-expect-error: exchangeToken needs the connection id
    await exchangeToken({ appSecret: 'a', accessCode: 'c' });
  });
});

describe('@portico/dapi user-input binding', () => {
  it('types the loop as the hand-written withUserInput it replaced: the POST result, the questions as UserInput', async () => {
    const body = { appSecret: 'a', userSecret: 'u' };
    const looped = await withUserInput(client, '/data/accounts/get', { body }, (inputs, round) => {
      expectTypeOf(inputs).toEqualTypeOf<UserInput[]>();
      expectTypeOf(round).toEqualTypeOf<number>();
      return inputs;
    });
    const direct = await client.POST('/data/accounts/get', { body });
    expectTypeOf(looped.data).toEqualTypeOf(direct.data);
    expectTypeOf(looped.error).toEqualTypeOf(direct.error);
    expectTypeOf(looped.data).not.toBeAny();

    const throwing = createClient({ auth: { accessToken: 'token' }, throwOnError: true });
    const thrown = await withUserInput(throwing, '/data/accounts/get', { body }, (inputs) => inputs, { maxRounds: 2 });
    expectTypeOf(thrown.data).toEqualTypeOf((await throwing.POST('/data/accounts/get', { body })).data);
    expectTypeOf(thrown.data).not.toBeNullable();

    // @ts-expect-error: only POST operations
    await withUserInput(client, '/data/accounts/nope', { body }, (inputs) => inputs);
    // @ts-expect-error: the operation's body needs the user secret
    await withUserInput(client, '/data/accounts/get', { body: { appSecret: 'a' } }, (inputs) => inputs);
    // @ts-expect-error: answers are the provider's UserInput objects
    await withUserInput(client, '/data/accounts/get', { body }, () => ['123456']);
  });
});

describe('revokeGrant: the revocation the profile declares (DelinkUser)', () => {
  it('takes the tokens and both secrets', async () => {
    const tokens = await exchangeToken({ appSecret: 'a', accessCode: 'c', connectionID: 'n' });
    expectTypeOf(await revokeGrant(tokens, { appSecret: 'a', userSecret: 'u' })).toEqualTypeOf<void>();
    // @ts-expect-error: DelinkUser needs the user secret
    await revokeGrant(tokens, { appSecret: 'a' });
    // @ts-expect-error: tokens, not an access token string
    await revokeGrant('token', { appSecret: 'a', userSecret: 'u' });
  });
});
