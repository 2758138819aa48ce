// A provider spec of the tests' own for the telemetry suites: client
// credentials at a loopback token endpoint, an operation by id, a cursor-paged
// list, a form POST; and the loopback server that answers them.
import { type AuthInput, type AuthProfile, authenticatorFor, clientCredentials, staticToken } from '@portico/auth';
import { type ClientOptions, defineClient, type ProviderSpec } from '../../src/index.ts';
import { paginate } from '../../src/pagination.ts';
import { bearerOf, json, type RecordedRequest, type TestServer } from '../helpers.ts';

const PROFILE: AuthProfile = {
  grants: ['client_credentials'],
  token: {
    url: 'https://auth.example.com/oauth/token',
    clientAuthentication: 'client_secret_post',
    bodyFormat: 'form',
    grants: { client_credentials: { parameters: { grant_type: 'client_credentials' } } },
    response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in' },
    error: { code: '/error', description: '/error_description' },
  },
  apply: { header: 'Authorization', scheme: 'Bearer' },
};

const SPEC: ProviderSpec = {
  slug: 'telemetry-test',
  defaultBaseUrl: 'https://api.example.com',
  auth: PROFILE,
  operations: {
    'GET /items': { requiresAuth: true, pagination: { style: 'cursor', items: '/items', cursorParam: 'cursor', nextCursor: '/next' } },
    'POST /items': { requiresAuth: true, formBody: true },
  },
  operationDefaults: { requiresAuth: true },
  paginate,
};

export const createClient = defineClient<any, AuthInput>(SPEC, authenticatorFor(clientCredentials, staticToken)) as (
  options?: ClientOptions<AuthInput, boolean>,
) => any;

/** Issues tokens from `next()`, and answers the API only with one it issued. */
export function serve(server: TestServer, next: () => string): { issued: string[] } {
  const state = { issued: [] as string[] };
  const valid = (request: RecordedRequest) => state.issued.includes(bearerOf(request) ?? '');
  server
    .on('POST /oauth/token', () => {
      const token = next();
      state.issued.push(token);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }, { 'cache-control': 'no-store' });
    })
    .on('GET /items/7', (request) =>
      valid(request) ? json(200, { id: 7 }, { 'x-request-id': 'req-7' }) : json(401, { error: 'invalid_token' }),
    )
    .on('GET /items', (request) => {
      if (!valid(request)) return json(401, { error: 'invalid_token' });
      const at = Number(request.query.get('cursor') ?? 0);
      return json(200, { items: [at * 2, at * 2 + 1], next: at < 2 ? String(at + 1) : null });
    })
    .on('POST /items', (request) => (valid(request) ? json(201, { id: 8 }) : json(401, { error: 'invalid_token' })));
  return state;
}
