import { describe, expectTypeOf, it } from 'vitest';
import type { webhooks } from '../../packages/finexer/src/generated/schema.ts';
import { createClient, type Pages, type paths, type Scope, verifyWebhook, type WebhookEvent } from '../../packages/finexer/src/index.ts';

const client = createClient({ auth: { accessToken: 'token' } });

describe('@portico/finexer types', () => {
  it('accepts correct calls', async () => {
    const { data } = await client.GET('/bank_accounts/{id}/transactions', { params: { path: { id: 'ba_1' }, query: { limit: 50 } } });
    expectTypeOf(data?.data).not.toBeAny();
    await client.POST('/consents', { body: { customer: 'cus_1', 'scopes[]': ['accounts'], metadata: { order: '42' } } });
    expectTypeOf<'customer_read'>().toExtend<Scope>();
  });

  it('rejects a wrong path, a missing required parameter and a wrong body field', async () => {
    // @ts-expect-error: no such path
    await client.GET('/bank_account');
    // @ts-expect-error: id is required
    await client.GET('/customers/{id}', { params: { path: {} } });
    // @ts-expect-error: a consent needs its customer
    await client.POST('/consents', { body: { return_url: 'https://app.example/back' } });
    // @ts-expect-error: metadata values are strings
    await client.POST('/consents', { body: { customer: 'cus_1', metadata: { order: 42 } } });
  });
});

describe('@portico/finexer pages', () => {
  it('names each paginated item by its component, the same type the response body holds', async () => {
    type Body<P extends '/customers' | '/bank_accounts/{id}/transactions'> = NonNullable<
      paths[P]['get']['responses'][200]['content']['application/json']
    >;
    expectTypeOf<Pages['/customers']>().toEqualTypeOf<NonNullable<Body<'/customers'>['data']>[number]>();
    expectTypeOf<Pages['/bank_accounts/{id}/transactions']>().toEqualTypeOf<
      NonNullable<Body<'/bank_accounts/{id}/transactions'>['data']>[number]
    >();
    for await (const customer of client.paginate('/customers')) expectTypeOf(customer).toEqualTypeOf<Pages['/customers']>();
    // @ts-expect-error: not a paginated operation
    client.paginate('/customers/{id}');
  });
});

describe('@portico/finexer per-request options', () => {
  it('types timeout and maxRetries beside the call, and request() as the method calls', async () => {
    const init = { params: { path: { id: 'cus_1' } } };
    await client.GET('/customers/{id}', { ...init, timeout: 5_000, maxRetries: 0 });
    // @ts-expect-error: timeout is in milliseconds
    await client.GET('/customers/{id}', { ...init, timeout: '5s' });
    // @ts-expect-error: maxRetries is a count
    await client.GET('/customers/{id}', { ...init, maxRetries: true });
    const viaRequest = await client.request('get', '/customers/{id}', init);
    const viaGet = await client.GET('/customers/{id}', init);
    expectTypeOf(viaRequest.data).toEqualTypeOf(viaGet.data);
    expectTypeOf(viaGet.data).not.toBeAny();
    const throwing = createClient({ auth: { accessToken: 'token' }, throwOnError: true });
    const { data } = await throwing.GET('/customers/{id}', { ...init, timeout: 1_000 });
    expectTypeOf(data).toEqualTypeOf<NonNullable<typeof viaGet.data>>();
  });
});

describe('@portico/finexer webhook binding', () => {
  it('keeps the exact types of the hand-written verifyWebhook it replaced', () => {
    type Event = {
      [Name in keyof webhooks]: NonNullable<webhooks[Name]['post']['requestBody']>['content']['application/json'];
    }[keyof webhooks];
    expectTypeOf<WebhookEvent>().toEqualTypeOf<Event>();
    expectTypeOf<WebhookEvent>().not.toBeNever();
    expectTypeOf(verifyWebhook).toEqualTypeOf<
      (
        rawBody: string | Uint8Array,
        headers: Headers | Record<string, string | string[] | undefined>,
        secret: string,
        options?: { toleranceSec?: number; now?: number },
      ) => Promise<WebhookEvent>
    >();
  });
});
