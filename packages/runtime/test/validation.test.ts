// A large API's response shapes live in a module of their own: imported on
// the first response validated, never when validation is off, tried again
// when the import fails; operations not listed take the spec's shared flags.
import { authenticatorFor, staticToken } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineClient, type ProviderSpec, ResponseValidationError } from '../src/index.ts';
import { json, startServer, type TestServer } from './helpers.ts';

let api: TestServer;
beforeAll(async () => {
  api = await startServer();
  api.on('GET /repos', () => json(200, [{ id: 1, name: 'a' }, { id: 2 }])).on('GET /user', () => json(200, { login: 'octocat' }));
});
afterAll(() => api.close());
beforeEach(() => api.reset());

function specWith(load: () => Promise<unknown>): ProviderSpec {
  return {
    slug: 'large',
    defaultBaseUrl: api.url,
    auth: {
      securityScheme: 'x',
      grants: ['client_credentials'],
      token: { url: '/t', clientAuthentication: 'none', bodyFormat: 'form', grants: {}, response: { accessToken: '/a' } },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    },
    operationDefaults: { requiresAuth: true },
    operations: { 'GET /user': {} },
    validation: load as ProviderSpec['validation'],
  };
}
const byToken = authenticatorFor(staticToken);
const SHAPES = { default: { 'GET /repos': { '200': { type: 'array', items: { type: 'object', required: ['id', 'name'] } } } } };

describe('validation data loaded on demand', () => {
  it('is imported once, on the first response validated, and checks the body', async () => {
    let imports = 0;
    const c = defineClient<any>(
      specWith(async () => {
        imports++;
        return SHAPES;
      }),
      byToken,
    )({ auth: { accessToken: 'token-for-large-api' } }) as any;
    expect(imports).toBe(0);
    expect((await c.GET('/user')).data).toEqual({ login: 'octocat' });
    const error = await c.GET('/repos').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(String(error)).toContain('/1/name is missing');
    await c.GET('/repos').catch(() => undefined);
    expect(imports).toBe(1);
  });

  it('is never imported with validateResponses: false', async () => {
    let imports = 0;
    const c = defineClient<any>(
      specWith(async () => {
        imports++;
        return SHAPES;
      }),
      byToken,
    )({ validateResponses: false }) as any;
    expect((await c.GET('/repos')).data).toHaveLength(2);
    expect(imports).toBe(0);
  });

  it('a failed import fails that call and is tried again on the next', async () => {
    let imports = 0;
    const c = defineClient<any>(
      specWith(async () => {
        if (imports++ === 0) throw new TypeError('chunk failed to load');
        return SHAPES;
      }),
      byToken,
    )({}) as any;
    await expect(c.GET('/repos')).rejects.toThrow('chunk failed to load');
    await expect(c.GET('/repos')).rejects.toBeInstanceOf(ResponseValidationError);
    expect(imports).toBe(2);
  });

  it('operations not listed take the shared flags: the token goes to /repos, not to /user', async () => {
    const c = defineClient<any>(
      specWith(async () => SHAPES),
      byToken,
    )({
      auth: { accessToken: 'token-for-large-api' },
      validateResponses: false,
    }) as any;
    await c.GET('/repos');
    await c.GET('/user');
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-for-large-api', undefined]);
  });
});
