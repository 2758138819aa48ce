import type { Client } from 'openapi-fetch';
import { describe, expectTypeOf, it } from 'vitest';
import { type ClientPathsWithMethod, createClient, type MethodResponse, wrapAsPathBasedClient } from '../../packages/finexer/src/index.ts';
import { createPorticoClient, type paths } from '../../packages/runtime/test/compat/fixture.ts';

const client = createPorticoClient();
type Post = { id: number; title: string; body?: string };

describe('openapi-fetch helpers, for Portico clients', () => {
  it('MethodResponse and ClientPathsWithMethod (exported by each provider package)', () => {
    const finexer = createClient();
    type Customer = MethodResponse<typeof finexer, 'get', '/customers/{id}'>;
    expectTypeOf<Customer>().toHaveProperty('id');
    expectTypeOf<ClientPathsWithMethod<typeof finexer, 'post'>>().toExtend<string>();
    expectTypeOf<MethodResponse<typeof client, 'get', '/posts/{id}'>>().toEqualTypeOf<Post>();
    expectTypeOf<ClientPathsWithMethod<typeof client, 'put'>>().toEqualTypeOf<'/posts/{id}'>();
  });

  it('wrapAsPathBasedClient: each path a key, its methods typed as the client’s', async () => {
    const byPath = wrapAsPathBasedClient(client);
    const { data } = await byPath['/posts/{id}'].GET({ params: { path: { id: 1 } }, timeout: 1_000 });
    expectTypeOf(data).toEqualTypeOf<Post | undefined>();
    // @ts-expect-error: id is required
    await byPath['/posts/{id}'].GET({ params: { path: {} } });
    // @ts-expect-error: no PUT on /posts
    await byPath['/posts'].PUT({});
  });

  it('code written for an openapi-fetch Client takes a Portico client', () => {
    const useClient = (c: Client<paths>) => c;
    expectTypeOf(useClient(client)).toEqualTypeOf<Client<paths>>();
  });

  it('a media type parameter narrows what a negotiated response is', async () => {
    const ld = createPorticoClient<false, 'application/ld+json'>();
    const { data } = await ld.GET('/media');
    expectTypeOf(data).toEqualTypeOf<{ '@id': string } | undefined>();
  });
});
