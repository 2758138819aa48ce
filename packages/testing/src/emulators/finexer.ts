// Finexer (seed 001): authorize at /oauth/ (client_id required;
// response_type, redirect_uri, scope as CSV or spaces, state optional and
// echoed), denial `?error=access_denied&error_code=access_denied` (the seed
// shows no state on it), token at /oauth/token with form body code,
// client_id, client_secret, grant_type and the answer token_type "bearer",
// access_token, refresh_token, account_id, scope (comma-joined, no expires_in);
// invalid_grant as a 400 JSON error. Revoke: form client_id, client_secret,
// refresh_token → 204 without a body, both tokens dead, a webhook
// oauth.authorization.revoked; failures are 400 with a JSON error.
import { bearerOf, formOf, hasExactly, json, LoopbackServer, opaque, type RecordedRequest, type Reply, tokenReply } from '../http.js';
import { TokenBook } from './tokens.js';

export interface FinexerOptions {
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  /** Whether a refresh answer carries a new refresh token (rotation is optional at Finexer). */
  rotateRefreshTokens?: boolean;
  now?: () => number;
}

const SCOPES = ['customer_read', 'customer_write', 'payment_write'];

interface Grant {
  accountId: string;
  scope: string[];
  refreshToken: string;
  accessTokens: Set<string>;
}

export class FinexerEmulator extends LoopbackServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: string[];
  rotateRefreshTokens: boolean;
  /** When true the user presses "deny" on the consent page. */
  deny = false;
  readonly tokens: TokenBook;
  /** Webhook events the emulator would have sent. */
  readonly events: { type: string; account: string }[] = [];
  readonly #codes = new Map<string, { redirectUri: string; scope: string[]; expiresAt: number }>();
  readonly #grants = new Map<string, Grant>();
  readonly #now: () => number;

  constructor(options: FinexerOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'app_XBl7BcXJAXYK3';
    this.clientSecret = options.clientSecret ?? 'sk_finexer_secret';
    this.redirectUris = options.redirectUris ?? ['https://yourplatformwebsite.com/authorize'];
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? false;
    this.#now = options.now ?? Date.now;
    this.tokens = new TokenBook(this.#now);
    this.route('GET /oauth/', (request) => this.#authorize(request));
    this.route('POST /oauth/token', (request) => this.#token(request));
    this.route('POST /oauth/revoke', (request) => this.#revoke(request));
    this.route('GET /customers', (request) =>
      this.tokens.isValid(bearerOf(request))
        ? json(200, { data: [], count: 0, paging: { total: 0, next: null, prev: null } })
        : json(401, { error: { message: 'Invalid access token' } }),
    );
  }

  get authorizationUrl(): string {
    return `${this.url}/oauth/`;
  }

  get tokenUrl(): string {
    return `${this.url}/oauth/token`;
  }

  get revocationUrl(): string {
    return `${this.url}/oauth/revoke`;
  }

  get apiBaseUrl(): string {
    return this.url;
  }

  /** `createOAuthFlow`/`oauth()` options pointing every endpoint at this emulator. */
  flowOptions(redirectUri: string) {
    return {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      redirectUri,
      authorizationUrl: this.authorizationUrl,
      tokenUrl: this.tokenUrl,
      revocationUrl: this.revocationUrl,
    };
  }

  #authorize(request: RecordedRequest): Reply {
    const q = request.query;
    if (q.get('client_id') !== this.clientId) return { status: 400, body: 'Unknown client_id' };
    const redirectUri = q.get('redirect_uri') ?? this.redirectUris[0]!;
    if (!this.redirectUris.includes(redirectUri)) return { status: 400, body: 'redirect_uri does not match a redirect url of the app' };
    const back = new URL(redirectUri);
    const state = q.get('state');
    const responseType = q.get('response_type');
    const scope = (q.get('scope') ?? '').split(/[ ,]+/).filter((s) => s !== '');
    if (responseType !== null && responseType !== 'code') back.searchParams.set('error', 'unsupported_response_type');
    else if (!scope.every((s) => SCOPES.includes(s))) back.searchParams.set('error', 'invalid_scope');
    else if (this.deny) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_code', 'access_denied');
      return { status: 302, headers: { location: back.href } };
    } else {
      const code = opaque('fx_code');
      this.#codes.set(code, { redirectUri, scope, expiresAt: this.#now() + 10 * 60_000 });
      back.searchParams.set('code', code);
    }
    if (state !== null) back.searchParams.set('state', state);
    return { status: 302, headers: { location: back.href } };
  }

  #token(request: RecordedRequest): Reply {
    const form = formOf(request);
    if (!form || request.headers.authorization !== undefined) {
      return tokenReply(400, { error: 'invalid_request', error_description: 'send client_id and client_secret in a form body' });
    }
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return tokenReply(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      if (!hasExactly(form, ['code', 'client_id', 'client_secret', 'grant_type']))
        return tokenReply(400, { error: 'invalid_request', error_description: 'unexpected parameters' });
      const code = form.get('code')!;
      const entry = this.#codes.get(code);
      this.#codes.delete(code);
      if (!entry || entry.expiresAt <= this.#now()) {
        return tokenReply(400, {
          error: 'invalid_grant',
          error_description: `The authorization code was not found in the system: ${code}`,
        });
      }
      const grant: Grant = { accountId: opaque('acct'), scope: entry.scope, refreshToken: opaque('fx_rt'), accessTokens: new Set() };
      this.#grants.set(grant.refreshToken, grant);
      return tokenReply(200, this.#answer(grant, true));
    }
    if (grantType === 'refresh_token') {
      if (!hasExactly(form, ['grant_type', 'refresh_token', 'client_id', 'client_secret']))
        return tokenReply(400, { error: 'invalid_request', error_description: 'unexpected parameters' });
      const grant = this.#grants.get(form.get('refresh_token')!);
      if (!grant) return tokenReply(400, { error: 'invalid_grant', error_description: 'The refresh token is invalid or was revoked' });
      if (this.rotateRefreshTokens) {
        this.#grants.delete(grant.refreshToken);
        grant.refreshToken = opaque('fx_rt');
        this.#grants.set(grant.refreshToken, grant);
      }
      return tokenReply(200, this.#answer(grant, this.rotateRefreshTokens));
    }
    return tokenReply(400, { error: 'unsupported_grant_type', error_description: `grant_type ${grantType} is not supported` });
  }

  #answer(grant: Grant, withRefreshToken: boolean): Record<string, unknown> {
    const accessToken = this.tokens.issue('fx_at');
    grant.accessTokens.add(accessToken);
    return {
      token_type: 'bearer',
      access_token: accessToken,
      ...(withRefreshToken ? { refresh_token: grant.refreshToken } : {}),
      account_id: grant.accountId,
      scope: grant.scope.join(','),
    };
  }

  #revoke(request: RecordedRequest): Reply {
    const form = formOf(request);
    if (!form || !hasExactly(form, ['client_id', 'client_secret', 'refresh_token'])) {
      return json(400, { error: 'invalid_request', error_description: 'client_id, client_secret and refresh_token are required' });
    }
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return json(400, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const grant = this.#grants.get(form.get('refresh_token')!);
    if (!grant) return json(400, { error: 'invalid_grant', error_description: 'The refresh token is invalid or was revoked' });
    this.#grants.delete(grant.refreshToken);
    for (const token of grant.accessTokens) this.tokens.revoke(token);
    this.events.push({ type: 'oauth.authorization.revoked', account: grant.accountId });
    return { status: 204 };
  }
}

export function startFinexer(options?: FinexerOptions): Promise<FinexerEmulator> {
  return new FinexerEmulator(options).start();
}
