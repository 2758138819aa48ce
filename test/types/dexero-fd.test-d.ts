import { describe, expectTypeOf, it } from 'vitest';
import { createClient } from '../../packages/dexero-fd/src/index.ts';

const client = createClient({ auth: { clientId: 'id', clientSecret: 'secret' } });

describe('@portico/dexero-fd types', () => {
  it('accepts correct calls and types their results', async () => {
    const { data } = await client.GET('/records.{format}', { params: { path: { format: 'json' } } });
    expectTypeOf(data).not.toBeAny();
    // The representation suffix defaults to JSON.
    const { data: same } = await client.GET('/records.{format}');
    expectTypeOf(same).toEqualTypeOf(data);
    await client.PUT('/records/{recordId}.{format}', { params: { path: { recordId: 1024, format: 'xml' } }, body: { firstName: 'Marie' } });
    await client.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: { q: 'tremblay' } } });
  });

  it('rejects a wrong path, a missing required parameter and a wrong body field', async () => {
    // @ts-expect-error: no such path
    await client.GET('/files.{format}', { params: { path: { format: 'json' } } });
    // @ts-expect-error: recordId is a required path parameter
    await client.PUT('/records/{recordId}.{format}', { params: { path: {} }, body: {} });
    // @ts-expect-error: format is json or xml
    await client.GET('/records.{format}', { params: { path: { format: 'csv' } } });
    // @ts-expect-error: recordId is a number
    await client.PUT('/records/{recordId}.{format}', { params: { path: { recordId: 'x', format: 'json' } }, body: {} });
    // @ts-expect-error: active is a boolean
    await client.POST('/records.{format}', { params: { path: { format: 'json' } }, body: { active: 'yes' } });
  });

  it('types the auth option as client credentials', () => {
    // @ts-expect-error: client credentials need a secret
    createClient({ auth: { clientId: 'id' } });
    createClient({ auth: { clientId: 'id', clientSecret: 's', scope: 'read' } });
    // @ts-expect-error: only the documented scope
    createClient({ auth: { clientId: 'id', clientSecret: 's', scope: 'write' } });
  });
});
