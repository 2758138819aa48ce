import { describe, expectTypeOf, it } from 'vitest';
import { createClient, verifyWebhook, type Scope, type WebhookEvent } from '../../packages/finexer/src/index.ts';
import type { webhooks } from '../../packages/finexer/src/generated/schema.ts';

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

describe('@portico/finexer webhook binding', () => {
  it('keeps the exact types of the hand-written verifyWebhook it replaced', () => {
    type Event = { [Name in keyof webhooks]: NonNullable<webhooks[Name]['post']['requestBody']>['content']['application/json'] }[keyof webhooks];
    expectTypeOf<WebhookEvent>().toEqualTypeOf<Event>();
    expectTypeOf<WebhookEvent>().not.toBeNever();
    expectTypeOf(verifyWebhook).toEqualTypeOf<
      (rawBody: string | Uint8Array, headers: Headers | Record<string, string | string[] | undefined>, secret: string, options?: { toleranceSec?: number; now?: number }) => Promise<WebhookEvent>
    >();
  });
});
