// A user's program, run unchanged on every runtime the ecosystem tests cover
// (Node.js, Bun, Deno, and bundled into a Cloudflare worker). It imports only
// what the installed packages publish, uses the runtime's own fetch and
// crypto, and reports what it saw as plain data: the test checks that, and
// the emulators' request logs, on the host. Plain JavaScript, so no runtime
// needs a compiler to load it.
import { createClient as dexeroFdClient } from '@portico/dexero-fd';
import { createClient as expertFileClient } from '@portico/expertfile';
import {
  createClient as fdxClient,
  oauth as fdxOAuth,
  NotFoundError,
  PorticoError,
  ReauthorizationRequiredError,
  ResponseParseError,
} from '@portico/fdx';
import { verifyWebhook, WebhookVerificationError } from '@portico/finexer';

/** A thrown value as data, with its cause chain. */
function describe(error) {
  if (!(error instanceof Error)) return { thrown: String(error) };
  const out = { name: error.name, message: error.message, portico: error instanceof PorticoError };
  for (const key of ['code', 'status', 'error', 'reason']) if (error[key] !== undefined) out[key] = error[key];
  if (error.cause !== undefined) out.cause = describe(error.cause);
  return out;
}

/** The error `call` rejects with; a call that succeeds is a failure of the step. */
async function rejection(call, expected) {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${expected}, but the call succeeded`);
}

// Steps run in this order; later ones reuse the clients earlier ones built.
const STEPS = {
  /** ExpertFile, client credentials: one token, fetched once, sent on both calls. */
  async clientCredentials(c, state) {
    const ef = c.expertfile;
    state.expertfile = expertFileClient({
      baseUrl: ef.apiBaseUrl,
      throwOnError: true,
      auth: { clientId: ef.clientId, clientSecret: ef.clientSecret, tokenUrl: ef.tokenUrl },
    });
    const init = { params: { path: { corporation: ef.organization }, query: { page_size: 2 } } };
    const first = await state.expertfile.GET('/organization/{corporation}/expert', init);
    const second = await state.expertfile.GET('/organization/{corporation}/expert', init);
    return { statuses: [first.response.status, second.response.status], experts: second.data.data.experts.map((e) => e.username) };
  },

  /** ExpertFile's offset paging, walked to the end. */
  async pagination(c, state) {
    const usernames = [];
    const init = { params: { path: { corporation: c.expertfile.organization }, query: { page_size: 3 } } };
    for await (const expert of state.expertfile.paginate('/organization/{corporation}/expert', init, { maxPages: 10 }))
      usernames.push(expert.username);
    return { usernames };
  },

  /** FDX: authorization code with PKCE (S256), then a refresh that rotates the refresh token. */
  async authorizationCode(c, state) {
    const f = c.fdx;
    const flow = fdxOAuth({ clientId: f.clientId, clientSecret: f.clientSecret, redirectUri: f.redirectUri, baseUrl: f.authBaseUrl });
    const request = await flow.authorizationUrl({ scope: ['customers', 'accounts'] });
    // The user's browser at an authorization server that approves at once.
    const consent = await fetch(request.url, { redirect: 'manual' });
    const callback = consent.headers.get('location');
    if (callback === null) throw new Error(`the authorization server answered ${consent.status} without a redirect`);
    const tokens = await flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier });
    // A stored session whose access token has expired: the first call refreshes it.
    const saved = [];
    const session = flow.session({ ...tokens, expiresAt: Date.now() - 60_000 }, { onTokens: (next) => void saved.push(next) });
    state.fdx = fdxClient({ baseUrl: f.apiBaseUrl, throwOnError: true, maxRetries: 0, auth: session });
    const customer = await state.fdx.GET('/customers/current');
    const current = await session.tokens();
    // The refresh token spent by that refresh is dead at the provider: the user must authorize again.
    const reused = await rejection(() => flow.refresh(tokens), 'the spent refresh token to be refused');
    return {
      challengeMethod: new URL(request.url).searchParams.get('code_challenge_method'),
      verifierLength: request.codeVerifier?.length,
      customerId: customer.data.customerId,
      saved: saved.length,
      rotated: saved.length === 1 && current?.refreshToken === saved[0].refreshToken && current.refreshToken !== tokens.refreshToken,
      newAccessToken: current?.accessToken !== tokens.accessToken,
      reuse: { isReauthorizationRequired: reused instanceof ReauthorizationRequiredError, ...describe(reused) },
    };
  },

  /** A 404 from the API is a NotFoundError. */
  async notFound(_c, state) {
    const error = await rejection(
      () => state.fdx.GET('/accounts/{accountId}', { params: { path: { accountId: 'missing' } } }),
      'NotFoundError',
    );
    return { isNotFoundError: error instanceof NotFoundError, ...describe(error) };
  },

  /** A 200 whose JSON is cut off is a ResponseParseError, not a SyntaxError. */
  async malformedBody(_c, state) {
    const error = await rejection(
      () => state.fdx.GET('/accounts/{accountId}', { params: { path: { accountId: 'broken' } } }),
      'ResponseParseError',
    );
    return { isResponseParseError: error instanceof ResponseParseError, ...describe(error) };
  },

  /** Finexer webhook: the genuine delivery verifies (HMAC with the runtime's WebCrypto), a tampered one does not. */
  async webhook(c) {
    const w = c.webhook;
    const event = await verifyWebhook(w.body, { 'fx-signature': w.signature }, w.secret);
    const tampered = await rejection(
      () => verifyWebhook(w.body.replace('authorized', 'revoked'), new Headers({ 'FX-Signature': w.signature }), w.secret),
      'WebhookVerificationError',
    );
    return { event, tampered: { isWebhookVerificationError: tampered instanceof WebhookVerificationError, ...describe(tampered) } };
  },

  /** Dexero FD answers in XML; the client decodes it to the typed object (client credentials with HTTP Basic). */
  async xml(c) {
    const d = c.dexeroFd;
    const client = dexeroFdClient({
      baseUrl: d.apiBaseUrl,
      throwOnError: true,
      auth: { clientId: d.clientId, clientSecret: d.clientSecret, tokenUrl: d.tokenUrl },
    });
    const { data } = await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    return data;
  },
};

/** Runs every step, each on its own: one failing step does not hide the others. */
export async function run(config) {
  const state = {};
  const results = {};
  for (const [name, step] of Object.entries(STEPS)) {
    try {
      results[name] = { ok: true, value: await step(config, state) };
    } catch (error) {
      results[name] = { ok: false, error: describe(error) };
    }
  }
  return results;
}
