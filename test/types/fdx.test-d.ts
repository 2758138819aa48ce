import { describe, expectTypeOf, it } from 'vitest';
import { createClient, type oauth, type Scope } from '../../packages/fdx/src/index.ts';

declare const flow: ReturnType<typeof oauth>;
const client = createClient({ auth: { accessToken: 'token' } });

describe('@portico/fdx types', () => {
  it('accepts correct calls and narrows the one-key account wrappers', async () => {
    const { data } = await client.GET('/accounts', { params: { query: { limit: 10, offset: 'abc' } } });
    const first = data?.accounts[0];
    if (first && 'depositAccount' in first) expectTypeOf(first.depositAccount.accountId).toEqualTypeOf<string>();
    await client.GET('/accounts/{accountId}/transactions', { params: { path: { accountId: 'a1' }, query: { startTime: '2024-01-01' } } });
    expectTypeOf<Scope>().toEqualTypeOf<'openid' | 'customers' | 'accounts' | 'transactions' | 'statements'>();
    await flow.authorizationUrl({ scope: ['openid', 'accounts'] });
  });

  it('rejects a wrong path, a missing required parameter and a wrong body field', async () => {
    // @ts-expect-error: no such path
    await client.GET('/account');
    // @ts-expect-error: accountId is required
    await client.GET('/accounts/{accountId}', { params: { path: {} } });
    // @ts-expect-error: limit is an integer
    await client.GET('/accounts', { params: { query: { limit: 'ten' } } });
    // @ts-expect-error: not a documented scope
    await flow.authorizationUrl({ scope: ['openid', 'payments'] });
    // @ts-expect-error: token_type_hint is access_token or refresh_token
    await client.POST('/oauth2/v4/revoke', { body: { token: 't', token_type_hint: 'id_token' } });
  });
});
