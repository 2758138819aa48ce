import { describe, expectTypeOf, it } from 'vitest';
import { createClient } from '../../packages/expertfile/src/index.ts';

const client = createClient({ auth: { clientId: 'id', clientSecret: 'secret' } });

describe('@portico/expertfile types', () => {
  it('accepts correct calls', async () => {
    const { data } = await client.GET('/organization/{corporation}/expert', {
      params: { path: { corporation: 1 }, query: { q: 'climate', sort: 'featured', page_size: 20 } },
    });
    expectTypeOf(data?.data.total).not.toBeAny();
    await client.POST('/organization/{corporation}/inquiry/{type}', {
      params: { path: { corporation: 1, type: 'media' } },
      body: {
        firstname: 'A',
        lastname: 'B',
        email: 'a@b.c',
        message: 'm',
        location_city: 'c',
        location_state: 's',
        location_country: 'CA',
        username: 'u',
        media_type: 'tv',
      },
    });
  });

  it('rejects a wrong path, a missing required parameter and a wrong body field', async () => {
    // @ts-expect-error: no such path
    await client.GET('/organization/{corporation}/experts', { params: { path: { corporation: 1 } } });
    // @ts-expect-error: corporation is required
    await client.GET('/organization/{corporation}/expert', { params: { path: {} } });
    // @ts-expect-error: sort is name or featured
    await client.GET('/organization/{corporation}/expert', { params: { path: { corporation: 1 }, query: { sort: 'age' } } });
    await client.POST('/organization/{corporation}/inquiry/{type}', {
      // @ts-expect-error: inquiry type is not in the list
      params: { path: { corporation: 1, type: 'spam' } },
      body: {} as never,
    });
    // @ts-expect-error: createExpert needs firstname, lastname, job_title, email, company
    await client.POST('/organization/{corporation}/expert', { params: { path: { corporation: 1 } }, body: { firstname: 'A' } });
  });
});
