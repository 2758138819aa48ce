// The mock against the private emulators of packages/testing, an independent
// reading of the same specs: the same requests to each auth endpoint, sent to
// both, get the same status, the same error code (where the spec lists the
// codes; where it leaves them open, as Dapi's `type`, both send one) and the
// same token-response shape (the JSON pointers of every field). Where the two
// readings differ because the spec is silent, the case says so and compares
// what the spec does say.
import { DapiEmulator, DexeroFdEmulator, ExpertFileEmulator, FdxEmulator, FinexerEmulator, type LoopbackServer } from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderSlug, type RunningMock, startMock } from '../src/index.js';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const REDIRECT = 'https://app.example/callback';
const STATE = 'state-0123456789abcdef';

/** One side of the comparison: where it listens, and what its Connect layer or consent page does. */
interface Side {
  url: string;
  connect(): Record<string, string>;
  /** The consent page's answer when the user denies: the emulator's flag; the mock's controller (`approve(url, { deny: true })`). */
  denied(path: string): Promise<Response>;
}

/** What a request's answer is compared by. */
interface Outcome {
  status: number;
  /** The error code, '(open)' where the spec does not list codes, or undefined. */
  error?: string;
  /** Every JSON pointer of the body, sorted (the token response's shape). */
  shape?: string[];
  /** The redirect's query parameter names and the error it carries. */
  redirect?: { params: string[]; error: string | null };
}

const form = (fields: Record<string, string>) => ({
  'content-type': 'application/x-www-form-urlencoded',
  body: new URLSearchParams(fields).toString(),
});
const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

function pointers(value: unknown, at = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [at];
  return Object.entries(value).flatMap(([k, v]) => pointers(v, `${at}/${k}`));
}

async function send(
  side: Side,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; 'content-type'?: string } = {},
) {
  const headers = { ...init.headers, ...(init['content-type'] ? { 'content-type': init['content-type'] } : {}) };
  return fetch(`${side.url}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }), redirect: 'manual' });
}

/** An answer as it is compared: `code` reads the error code, `open` when the spec leaves the codes open. */
async function outcome(response: Response, code?: (body: Record<string, unknown>) => unknown, open = false): Promise<Outcome> {
  if (response.status === 302) {
    const location = new URL(response.headers.get('location')!);
    // error_description is OPTIONAL (RFC 6749 §4.1.2.1): the emulator sends none, the mock says what was wrong.
    const params = [...location.searchParams.keys()].filter((name) => name !== 'error_description').sort();
    return { status: 302, redirect: { params, error: location.searchParams.get('error') } };
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {}
  const error = code?.(body);
  const out: Outcome = { status: response.status };
  if (error !== undefined) out.error = open ? '(open)' : String(error);
  else out.shape = pointers(body).sort();
  return out;
}

interface Pair {
  slug: ProviderSlug;
  emulator: () => LoopbackServer & { connect?: () => Record<string, unknown>; deny?: boolean };
  client: Record<string, unknown>;
}

const PAIRS: Pair[] = [
  {
    slug: 'fdx',
    emulator: () => new FdxEmulator({ redirectUris: [REDIRECT] }),
    client: { clientId: 'fdx-client', clientSecret: 's3cr:et+/%', redirectUris: [REDIRECT] },
  },
  {
    slug: 'finexer',
    emulator: () => new FinexerEmulator({ redirectUris: [REDIRECT], rotateRefreshTokens: true }),
    client: { clientId: 'app_XBl7BcXJAXYK3', clientSecret: 'sk_finexer_secret', redirectUris: [REDIRECT] },
  },
  { slug: 'dexero-fd', emulator: () => new DexeroFdEmulator(), client: { clientId: 'dexero-client', clientSecret: 's3cr:et+/%' } },
  { slug: 'expertfile', emulator: () => new ExpertFileEmulator(), client: { clientId: 'ef-client', clientSecret: 'ef-secret' } },
  { slug: 'dapi', emulator: () => new DapiEmulator(), client: { appSecret: 'dapi-app-secret' } },
];

/** The cases, per provider: each runs on both sides and yields the outcome compared. */
const CASES: Record<ProviderSlug, Record<string, (side: Side) => Promise<Outcome>>> = {
  fdx: (() => {
    const authorize = (side: Side, extra: Record<string, string> = {}) =>
      send(
        side,
        'GET',
        `/oauth2/v4/authorize?${new URLSearchParams({
          client_id: 'fdx-client',
          redirect_uri: REDIRECT,
          response_type: 'code',
          code_challenge: CHALLENGE,
          code_challenge_method: 'S256',
          scope: 'openid customers',
          state: STATE,
          ...extra,
        })}`,
      );
    const auth = { authorization: basic('fdx-client', 's3cr:et+/%') };
    const code = async (side: Side) => new URL((await authorize(side)).headers.get('location')!).searchParams.get('code')!;
    const exchange = async (side: Side, verifier = VERIFIER) =>
      send(side, 'POST', '/oauth2/v4/token', {
        headers: auth,
        ...form({
          client_id: 'fdx-client',
          code: await code(side),
          grant_type: 'authorization_code',
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        }),
      });
    const refresh = (side: Side, token: string) =>
      send(side, 'POST', '/oauth2/v4/token', {
        headers: auth,
        ...form({ client_id: 'fdx-client', grant_type: 'refresh_token', refresh_token: token }),
      });
    const rfc = (b: Record<string, unknown>) => b.error;
    return {
      'authorize: approved, a code and the state': async (side) => outcome(await authorize(side)),
      'authorize: code_challenge_method=plain refused': async (side) => outcome(await authorize(side, { code_challenge_method: 'plain' })),
      'authorize: a scope without openid refused': async (side) => outcome(await authorize(side, { scope: 'customers' })),
      'authorize: an unknown client, no redirect': async (side) => outcome(await authorize(side, { client_id: 'someone-else' }), rfc),
      'token: the code exchanged, RFC 6749 shape': async (side) => outcome(await exchange(side)),
      'token: a wrong verifier is invalid_grant': async (side) => outcome(await exchange(side, `${VERIFIER.slice(0, -1)}A`), rfc),
      'token: a wrong secret is invalid_client': async (side) =>
        outcome(
          await send(side, 'POST', '/oauth2/v4/token', {
            headers: { authorization: basic('fdx-client', 'wrong') },
            ...form({ client_id: 'fdx-client', grant_type: 'refresh_token', refresh_token: 'x' }),
          }),
          rfc,
        ),
      'token: client_credentials is unsupported_grant_type': async (side) =>
        outcome(
          await send(side, 'POST', '/oauth2/v4/token', {
            headers: auth,
            ...form({ client_id: 'fdx-client', grant_type: 'client_credentials' }),
          }),
          rfc,
        ),
      'token: a refresh rotates; the old refresh token is invalid_grant': async (side) => {
        const first = (await (await exchange(side)).json()) as { refresh_token: string };
        const rotated = await outcome(await refresh(side, first.refresh_token));
        const reused = await outcome(await refresh(side, first.refresh_token), rfc);
        return { status: rotated.status, shape: [...rotated.shape!, `reused:${reused.status}:${reused.error}`] };
      },
      'revoke: a refresh token, 200': async (side) => {
        const { refresh_token } = (await (await exchange(side)).json()) as { refresh_token: string };
        return outcome(
          await send(side, 'POST', '/oauth2/v4/revoke', {
            headers: auth,
            ...form({ token: refresh_token, token_type_hint: 'refresh_token' }),
          }),
        );
      },
      'revoke: an unknown hint is unsupported_token_type': async (side) =>
        outcome(
          await send(side, 'POST', '/oauth2/v4/revoke', { headers: auth, ...form({ token: 'x', token_type_hint: 'id_token' }) }),
          rfc,
        ),
    };
  })(),
  finexer: (() => {
    const authorize = (side: Side, extra: Record<string, string> = {}) =>
      send(
        side,
        'GET',
        `/oauth/?${new URLSearchParams({ client_id: 'app_XBl7BcXJAXYK3', response_type: 'code', redirect_uri: REDIRECT, scope: 'customer_read,customer_write', state: STATE, ...extra })}`,
      );
    const secret = { client_id: 'app_XBl7BcXJAXYK3', client_secret: 'sk_finexer_secret' };
    const exchange = async (side: Side) => {
      const code = new URL((await authorize(side)).headers.get('location')!).searchParams.get('code')!;
      return send(side, 'POST', '/oauth/token', form({ code, ...secret, grant_type: 'authorization_code' }));
    };
    const rfc = (b: Record<string, unknown>) => b.error;
    return {
      'authorize: approved, a code and the state': async (side) => outcome(await authorize(side)),
      // The emulator leaves the state off a denial (the seed's example shows none); RFC 6749 §4.1.2.1 echoes it, and the spec is silent: compared without it.
      'authorize: denied, access_denied and error_code': async (side) => {
        const denied = await outcome(
          await side.denied(
            `/oauth/?${new URLSearchParams({ client_id: 'app_XBl7BcXJAXYK3', redirect_uri: REDIRECT, scope: 'customer_read', state: STATE })}`,
          ),
        );
        return { ...denied, redirect: { ...denied.redirect!, params: denied.redirect!.params.filter((p) => p !== 'state') } };
      },
      'token: the code exchanged, with account_id': async (side) => outcome(await exchange(side)),
      'token: an unknown code is invalid_grant': async (side) =>
        outcome(await send(side, 'POST', '/oauth/token', form({ code: 'nope', ...secret, grant_type: 'authorization_code' })), rfc),
      // The spec documents only 400 for the token endpoint; the emulator answers a wrong secret 401 (RFC 6749 §5.2 allows either): the code is compared.
      'token: a wrong secret is invalid_client': async (side) => {
        const answer = await outcome(
          await send(
            side,
            'POST',
            '/oauth/token',
            form({ code: 'x', client_id: secret.client_id, client_secret: 'wrong', grant_type: 'authorization_code' }),
          ),
          rfc,
        );
        return { status: Math.min(answer.status, 400), ...(answer.error ? { error: answer.error } : {}) };
      },
      'token: a refresh rotates, same shape': async (side) => {
        const { refresh_token } = (await (await exchange(side)).json()) as { refresh_token: string };
        return outcome(await send(side, 'POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token, ...secret })));
      },
      'revoke: the grant, 204': async (side) => {
        const { refresh_token } = (await (await exchange(side)).json()) as { refresh_token: string };
        return outcome(await send(side, 'POST', '/oauth/revoke', form({ ...secret, refresh_token })));
      },
      'revoke: an unknown refresh token is invalid_grant': async (side) =>
        outcome(await send(side, 'POST', '/oauth/revoke', form({ ...secret, refresh_token: 'nope' })), rfc),
      'revoke: a wrong secret is invalid_client': async (side) =>
        outcome(
          await send(side, 'POST', '/oauth/revoke', form({ client_id: secret.client_id, client_secret: 'wrong', refresh_token: 'x' })),
          rfc,
        ),
    };
  })(),
  'dexero-fd': (() => {
    const token = (side: Side, fields: Record<string, string>, secret = 's3cr:et+/%') =>
      send(side, 'POST', '/oauth/token.action', { headers: { authorization: basic('dexero-client', secret) }, ...form(fields) });
    const rfc = (b: Record<string, unknown>) => b.error;
    return {
      'token: client credentials, RFC 6749 shape': async (side) =>
        outcome(await token(side, { scope: 'read', grant_type: 'client_credentials' })),
      'token: a wrong secret is invalid_client': async (side) =>
        outcome(await token(side, { scope: 'read', grant_type: 'client_credentials' }, 'wrong'), rfc),
      'token: an unknown scope is invalid_scope': async (side) =>
        outcome(await token(side, { scope: 'admin', grant_type: 'client_credentials' }), rfc),
      'token: another grant is unsupported_grant_type': async (side) =>
        outcome(await token(side, { scope: 'read', grant_type: 'password' }), rfc),
      'token: a JSON body is invalid_request': async (side) =>
        outcome(
          await send(side, 'POST', '/oauth/token.action', {
            headers: { authorization: basic('dexero-client', 's3cr:et+/%') },
            'content-type': 'application/json',
            body: '{"grant_type":"client_credentials"}',
          }),
          rfc,
        ),
    };
  })(),
  expertfile: (() => {
    const token = (side: Side, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      send(side, 'POST', '/v2/oauth/token', { headers, ...form(fields) });
    const failed = (b: Record<string, unknown>) => (b.success === false ? 'failed' : undefined);
    const ok = { client_id: 'ef-client', client_secret: 'ef-secret', grant_type: 'client_credentials' };
    return {
      'token: client credentials, the {success, data} envelope': async (side) => outcome(await token(side, ok)),
      'token: a wrong secret, 401 with success false': async (side) =>
        outcome(await token(side, { ...ok, client_secret: 'wrong' }), failed),
      'token: without grant_type, 400': async (side) =>
        outcome(await token(side, { client_id: 'ef-client', client_secret: 'ef-secret' }), failed),
      'token: a Basic header besides the body, 400': async (side) =>
        outcome(await token(side, ok, { authorization: basic('ef-client', 'ef-secret') }), failed),
    };
  })(),
  dapi: (() => {
    const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
    const type = (b: Record<string, unknown>) => (b.success === false ? b.type : undefined);
    const exchange = (side: Side, linked: Record<string, string>, appSecret = 'dapi-app-secret') =>
      send(side, 'POST', '/v2/auth/ExchangeToken', json({ appSecret, accessCode: linked.accessCode, connectionID: linked.connectionID }));
    return {
      'exchange: the access code, {success, accessToken, ...}': async (side) => outcome(await exchange(side, side.connect())),
      'exchange: a wrong app secret, 200 with success false': async (side) =>
        outcome(await exchange(side, side.connect(), 'wrong-secret'), type, true),
      'exchange: an access code spent twice, 200 with success false': async (side) => {
        const linked = side.connect();
        await exchange(side, linked);
        return outcome(await exchange(side, linked), type, true);
      },
      'exchange: a body without connectionID, 400': async (side) =>
        outcome(await send(side, 'POST', '/v2/auth/ExchangeToken', json({ appSecret: 'dapi-app-secret', accessCode: 'x' })), type, true),
      'delink: the grant ends, 200': async (side) => {
        const linked = side.connect();
        const { accessToken } = (await (await exchange(side, linked)).json()) as { accessToken: string };
        const done = await send(side, 'POST', '/v2/users/DelinkUser', {
          headers: { authorization: `Bearer ${accessToken}` },
          ...json({ appSecret: 'dapi-app-secret', userSecret: linked.userSecret }),
        });
        const after = await send(side, 'POST', '/v2/users/DelinkUser', {
          headers: { authorization: `Bearer ${accessToken}` },
          ...json({ appSecret: 'dapi-app-secret', userSecret: linked.userSecret }),
        });
        return { ...(await outcome(done)), error: `after:${after.status}` };
      },
      'delink: a wrong user secret, 200 with success false': async (side) => {
        const linked = side.connect();
        const { accessToken } = (await (await exchange(side, linked)).json()) as { accessToken: string };
        return outcome(
          await send(side, 'POST', '/v2/users/DelinkUser', {
            headers: { authorization: `Bearer ${accessToken}` },
            ...json({ appSecret: 'dapi-app-secret', userSecret: 'wrong' }),
          }),
          type,
          true,
        );
      },
    };
  })(),
};

for (const pair of PAIRS) {
  describe(`${pair.slug}: the mock answers as the emulator does`, () => {
    let emulator: ReturnType<Pair['emulator']>;
    let mock: RunningMock;
    const sides: { emulator?: Side; mock?: Side } = {};
    beforeAll(async () => {
      emulator = await pair.emulator().start();
      mock = await startMock(pair.slug, { client: pair.client as never });
      sides.emulator = {
        url: emulator.url,
        connect: () => Object.fromEntries(Object.entries(emulator.connect!()).map(([k, v]) => [k, String(v)])),
        denied: async (path) => {
          emulator.deny = true;
          try {
            return await fetch(`${emulator.url}${path}`, { redirect: 'manual' });
          } finally {
            emulator.deny = false;
          }
        },
      };
      sides.mock = {
        url: mock.url,
        connect: () => mock.controller.connect() as Record<string, string>,
        denied: async (path) =>
          new Response(null, { status: 302, headers: { location: mock.controller.approve(`${mock.url}${path}`, { deny: true }) } }),
      };
    });
    afterAll(async () => {
      await emulator.close();
      await mock.close();
    });

    for (const [name, run] of Object.entries(CASES[pair.slug])) {
      it(name, async () => {
        const fromEmulator = await run(sides.emulator!);
        const fromMock = await run(sides.mock!);
        expect(fromMock).toEqual(fromEmulator);
      });
    }
  });
}
