// The five published OpenAPI documents the import is proven on (read from
// ../shared/published-specs, never copied into the project), with five typed
// calls each: the test type-checks them on the imported package, and
// `pnpm bench` section 10 times them against bare openapi-fetch over the same
// generated `paths`, so both must compile on either client.
import { join } from 'node:path';
import { ROOT } from '../../tools/lib/specs.ts';

export const PUBLISHED_SPECS = process.env.PORTICO_PUBLISHED_SPECS ?? join(ROOT, '..', 'shared', 'published-specs');

export interface PublishedDocument {
  slug: string;
  file: string;
  /** A credential of the shape the imported package takes. */
  auth: Record<string, string>;
  /** `await client.…` calls, each a statement without its semicolon. */
  calls: string[];
}

export const DOCUMENTS: PublishedDocument[] = [
  {
    // OpenAPI 3.1.2, YAML: one bearer scheme for every operation.
    slug: 'resend',
    file: 'resend.yaml',
    auth: { accessToken: 're_canary_0123456789' },
    calls: [
      "const domains = await client.GET('/domains'); domains.data?.data?.[0]?.id satisfies string | undefined",
      // Problem 4 of issue 23: `region` and `tls` have defaults; the body needs only the name.
      "await client.POST('/domains', { body: { name: 'example.com' } })",
      "await client.GET('/emails/{email_id}', { params: { path: { email_id: 'e-1' } } })",
      "await client.POST('/emails', { body: { from: 'Acme <a@example.com>', to: ['b@example.com'], subject: 'Hello' } })",
      "await client.GET('/api-keys')",
    ],
  },
  {
    // OpenAPI 3.1.0, YAML: OAuth 2 or a personal access token (X-Figma-Token) on the same operations.
    slug: 'figma',
    file: 'figma-openapi.yaml',
    auth: { apiKey: 'figd_canary_0123456789' },
    calls: [
      "const me = await client.GET('/v1/me'); me.data?.email satisfies string | undefined",
      "await client.POST('/v1/files/{file_key}/comments', { params: { path: { file_key: 'f' } }, body: { message: 'Looks good' } })",
      "await client.GET('/v1/files/{file_key}', { params: { path: { file_key: 'f' } } })",
      "await client.GET('/v1/files/{file_key}/comments', { params: { path: { file_key: 'f' } } })",
      "await client.DELETE('/v2/webhooks/{webhook_id}', { params: { path: { webhook_id: 'w' } } })",
    ],
  },
  {
    // OpenAPI 3.1.0, JSON: HTTP Basic or an API key header, the user's pick.
    slug: 'adyen',
    file: 'adyen-CheckoutService-v72.json',
    auth: { username: 'ws@Company.Acme', password: 'adyen-canary-0123' },
    calls: [
      // Problem 4: `splitCardFundingSources` has a default; the body needs only the merchant account.
      "const methods = await client.POST('/paymentMethods', { body: { merchantAccount: 'Acme' } }); methods.data?.paymentMethods satisfies unknown",
      "await client.GET('/paymentLinks/{linkId}', { params: { path: { linkId: 'PL1' } } })",
      "await client.POST('/sessions', { body: { amount: { currency: 'EUR', value: 1000 }, merchantAccount: 'Acme', reference: 'order-1', returnUrl: 'https://shop.example/return' } })",
      "await client.POST('/cancels', { body: { merchantAccount: 'Acme', paymentReference: 'P1' } })",
      "await client.DELETE('/storedPaymentMethods/{storedPaymentMethodId}', { params: { path: { storedPaymentMethodId: 's' }, query: { shopperReference: 'sh', merchantAccount: 'Acme' } } })",
    ],
  },
  {
    // OpenAPI 3.0.2, JSON, 1.7 MB: OAuth 2 authorization code; here a token the user holds.
    slug: 'box',
    file: 'box-openapi.json',
    auth: { accessToken: 'box_canary_0123456789' },
    calls: [
      "const me = await client.GET('/users/me'); me.data?.id satisfies string | undefined",
      // Problem 4: `action`, `message` and `completion_rule` have defaults; the body needs only the item.
      "await client.POST('/tasks', { body: { item: { id: '11446498', type: 'file' } } })",
      "await client.GET('/folders/{folder_id}', { params: { path: { folder_id: '0' } } })",
      "await client.POST('/folders', { body: { name: 'Reports', parent: { id: '0' } } })",
      "await client.GET('/files/{file_id}', { params: { path: { file_id: '12345' } } })",
    ],
  },
  {
    // OpenAPI 3.0.3, JSON: OAuth 2 client credentials at a token URL relative to the server.
    slug: 'paypal',
    file: 'paypal-checkout_orders_v2.json',
    auth: { clientId: 'pp-client', clientSecret: 'pp-secret-0123456789' },
    calls: [
      "const order = await client.GET('/v2/checkout/orders/{id}', { params: { path: { id: '5O190127TN364715T' } } }); order.data?.id satisfies string | undefined",
      "await client.POST('/v2/checkout/orders', { body: { intent: 'CAPTURE', purchase_units: [{ amount: { currency_code: 'USD', value: '10.00' } }] } })",
      // Problem 4: `notify_payer` has a default.
      "await client.POST('/v2/checkout/orders/{id}/track', { params: { path: { id: 'O1' } }, body: { transaction_id: 'T1', status: 'SHIPPED', capture_id: 'C1' } })",
      "await client.POST('/v2/checkout/orders/{id}/capture', { params: { path: { id: 'O1' } } })",
      "await client.POST('/v2/checkout/orders/{id}/authorize', { params: { path: { id: 'O1' } } })",
    ],
  },
];

/** A consumer module: `head` (imports and the `client`), then the calls in one exported function. */
export function consumerOf(head: string, calls: string[], more: string[] = []): string {
  return [head, 'export async function calls() {', ...calls.map((c) => `  ${c};`), '}', ...more].join('\n');
}
