// Defect 6: a path parameter of `..` or `.` moved the request and its token:
// ExpertFile's DELETE /organization/{corporation}/expert/{username} with
// username `..` went out as DELETE /v2/organization/4821/ (the organization,
// not one expert), bearer token included. Decision: a value that would make
// a path segment empty, `.` or `..` (in any percent-encoded spelling) is
// refused with a ConfigurationError naming the parameter, before anything is
// sent; any other value stays inside its own segment.
import { ConfigurationError } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as expertfile from '../../../expertfile/src/index.ts';
import * as finexer from '../../../finexer/src/index.ts';
import { rejectionOf, startServer, type TestServer } from '../helpers.ts';

let api: TestServer;
beforeAll(async () => {
  api = await startServer();
});
afterAll(() => api.close());
beforeEach(() => api.reset());

const TOKEN = 'static-token-dot-segments-0123456789';
// A static token (which every generated client takes, though ExpertFile's Auth type names only client credentials): no token endpoint needed.
const client = () => expertfile.createClient({ baseUrl: `${api.url}/v2`, auth: { accessToken: TOKEN } as never, maxRetries: 0 });
const deleteExpert = (corporation: unknown, username: unknown) =>
  client().DELETE('/organization/{corporation}/expert/{username}', {
    params: { path: { corporation: corporation as number, username: username as string } },
  });

describe('path parameters cannot move the request', () => {
  it.each(['..', '.', '', '%2e%2E', '.%2e', '%2E.', '%2e', '%252e%252e', '%25252E.'])(
    'username %j is refused with a ConfigurationError, and nothing is sent',
    async (username) => {
      const error = await rejectionOf(deleteExpert(4821, username));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'configuration_error', message: 'path parameter username may not be empty, "." or ".."' });
      expect(api.requests).toHaveLength(0);
    },
  );

  // From an end user's JSON (or node:querystring, whose objects have no prototype): openapi-fetch would write an object's keys unencoded.
  it.each([
    ['an object whose key climbs out', JSON.parse('{"../..?x":""}')],
    ['an object without a prototype', Object.assign(Object.create(null), { '../..': 'x' })],
    ['an array holding an object', [{ '..': '' }]],
    ['null', null],
    ['a function', () => '..'],
  ])('username as %s is refused with a ConfigurationError, and nothing is sent', async (_name, username) => {
    const error = await rejectionOf(deleteExpert(4821, username));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ message: 'path parameter username must be a string, number or boolean, or an array of them' });
    expect(api.requests).toHaveLength(0);
  });

  it('a value read twice cannot answer the check one way and the request another (a getter, a Proxy array)', async () => {
    const twoFaced = () => {
      let reads = 0;
      return () => (++reads === 1 ? 'jdoe' : '..');
    };
    const getter = twoFaced();
    const path = Object.defineProperty({ corporation: 4821 }, 'username', { get: getter, enumerable: true });
    const element = twoFaced();
    const proxy = new Proxy(['x'], { get: (target, key, receiver) => (key === '0' ? element() : Reflect.get(target, key, receiver)) });
    await client().DELETE('/organization/{corporation}/expert/{username}', { params: { path: path as never } });
    await client().DELETE('/organization/{corporation}/expert/{username}', {
      params: { path: { corporation: 4821, username: proxy as unknown as string } },
    });
    // Each was sent as first read, in its own segment: never as `..`.
    expect(api.requests.map((sent) => sent.path)).toEqual(['/v2/organization/4821/expert/jdoe', '/v2/organization/4821/expert/jdoe']);
  });

  it('the organization is refused the same way, in the middle of the path', async () => {
    const error = await rejectionOf(deleteExpert('..', 'jdoe'));
    expect(error).toMatchObject({ code: 'configuration_error', message: expect.stringContaining('path parameter corporation ') });
    expect(api.requests).toHaveLength(0);
  });

  it.each(['...', '.a', 'a..', '../a', '..\\', '..?x', '..#x', '%2e%2e/x', ' .. '])(
    'username %j stays one segment under /expert/, with the token',
    async (username) => {
      await deleteExpert(4821, username);
      expect(api.requests).toHaveLength(1);
      const [sent] = api.requests;
      expect(sent!.path).toBe(`/v2/organization/4821/expert/${encodeURIComponent(username)}`);
      expect(decodeURIComponent(sent!.path.split('/').at(-1)!)).toBe(username);
      expect(sent!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    },
  );

  it("with a pathSerializer of the caller's own, and an array value joined into one segment, too", async () => {
    const raw = (template: string, params: Record<string, unknown>) =>
      template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]));
    const fx = finexer.createClient({ baseUrl: api.url, auth: { accessToken: TOKEN } });
    for (const init of [{ params: { path: { id: '..' } }, pathSerializer: raw }, { params: { path: { id: ['..'] } } }]) {
      const error = await rejectionOf(fx.GET('/customers/{id}', init as never));
      expect(error).toMatchObject({ code: 'configuration_error', message: expect.stringContaining('path parameter id ') });
    }
    expect(api.requests).toHaveLength(0);
  });
});
