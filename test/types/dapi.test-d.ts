import { describe, expectTypeOf, it } from 'vitest';
import { createClient, exchangeToken } from '../../packages/dapi/src/index.ts';

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
