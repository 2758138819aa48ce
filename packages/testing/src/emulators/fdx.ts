// FDX with MX Data Access authorization (seed 002): GET /oauth2/v4/authorize
// with client_id, redirect_uri, response_type=code, code_challenge (≥ 32
// characters), code_challenge_method=S256, scope (openid required), state
// optional; POST /oauth2/v4/token with client_secret_basic and client_id,
// code, grant_type, redirect_uri, code_verifier; refresh tokens rotate on
// every use and expire after 30 days; POST /oauth2/v4/revoke per RFC 7009
// (token, token_type_hint).
import { createHash } from 'node:crypto';
import {
  bearerOf,
  formOf,
  hasExactly,
  json,
  LoopbackServer,
  NO_STORE,
  opaque,
  parseBasic,
  type RecordedRequest,
  type Reply,
  tokenReply,
} from '../http.js';
import { TokenBook } from './tokens.js';

export interface FdxOptions {
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  /** expires_in of access tokens, seconds. */
  accessTokenLifetime?: number;
  now?: () => number;
}

const SCOPES = ['openid', 'customers', 'accounts', 'transactions', 'statements'];
const REFRESH_TOKEN_LIFETIME_MS = 30 * 24 * 3600 * 1000;

interface Grant {
  scope: string[];
  refreshToken: string;
  refreshExpiresAt: number;
  accessTokens: Set<string>;
}

export class FdxEmulator extends LoopbackServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: string[];
  accessTokenLifetime: number;
  readonly tokens: TokenBook;
  readonly #codes = new Map<string, { redirectUri: string; challenge: string; scope: string[]; expiresAt: number }>();
  readonly #grants = new Map<string, Grant>();
  readonly #now: () => number;

  constructor(options: FdxOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'fdx-client';
    this.clientSecret = options.clientSecret ?? 's3cr:et+/%';
    this.redirectUris = options.redirectUris ?? ['https://app.example/callback'];
    this.accessTokenLifetime = options.accessTokenLifetime ?? 900;
    this.#now = options.now ?? Date.now;
    this.tokens = new TokenBook(this.#now);
    this.route('GET /oauth2/v4/authorize', (request) => this.#authorize(request));
    this.route('POST /oauth2/v4/token', (request) => this.#token(request));
    this.route('POST /oauth2/v4/revoke', (request) => this.#revoke(request));
    this.route('GET /fdx/v4/customers/current', (request) =>
      this.tokens.isValid(bearerOf(request)) ? json(200, { customerId: 'cust-0001' }) : json(401, { code: 401, message: 'Unauthorized' }),
    );
  }

  /** The authorization server base the fdx package takes as `baseUrl`. */
  get authBaseUrl(): string {
    return this.url;
  }

  get apiBaseUrl(): string {
    return `${this.url}/fdx/v4`;
  }

  #authorize(request: RecordedRequest): Reply {
    const q = request.query;
    const redirectUri = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || redirectUri === null || !this.redirectUris.includes(redirectUri)) {
      return json(400, { error: 'invalid_request', error_description: 'unknown client_id or redirect_uri' });
    }
    const back = new URL(redirectUri);
    const challenge = q.get('code_challenge') ?? '';
    const scope = (q.get('scope') ?? '').split(' ').filter((s) => s !== '');
    let error: string | undefined;
    if (q.get('response_type') !== 'code') error = 'unsupported_response_type';
    else if (challenge.length < 32 || !/^[A-Za-z0-9\-._~]+$/.test(challenge) || q.get('code_challenge_method') !== 'S256')
      error = 'invalid_request';
    else if (!scope.includes('openid') || !scope.every((s) => SCOPES.includes(s))) error = 'invalid_scope';
    if (error) back.searchParams.set('error', error);
    else {
      const code = opaque('fdx_code');
      this.#codes.set(code, { redirectUri, challenge, scope, expiresAt: this.#now() + 60_000 });
      back.searchParams.set('code', code);
    }
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    return { status: 302, headers: { location: back.href } };
  }

  #client(request: RecordedRequest): Reply | undefined {
    const client = parseBasic(request.headers.authorization);
    if (!client || client.id !== this.clientId || client.secret !== this.clientSecret) {
      return { status: 401, body: { error: 'invalid_client' }, headers: { ...NO_STORE, 'www-authenticate': 'Basic realm="fdx"' } };
    }
    return undefined;
  }

  #token(request: RecordedRequest): Reply {
    const refused = this.#client(request);
    if (refused) return refused;
    const form = formOf(request);
    if (!form || form.has('client_secret') || form.get('client_id') !== this.clientId) {
      return tokenReply(400, {
        error: 'invalid_request',
        error_description: 'form body with client_id (and the secret only in the Basic header) required',
      });
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      if (!hasExactly(form, ['client_id', 'code', 'grant_type', 'redirect_uri', 'code_verifier']))
        return tokenReply(400, { error: 'invalid_request' });
      const entry = this.#codes.get(form.get('code')!);
      this.#codes.delete(form.get('code')!);
      const verifier = form.get('code_verifier')!;
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        !entry ||
        entry.expiresAt <= this.#now() ||
        entry.redirectUri !== form.get('redirect_uri') ||
        !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) ||
        challenge !== entry.challenge
      ) {
        return tokenReply(400, { error: 'invalid_grant', error_description: 'code, redirect_uri or code_verifier does not match' });
      }
      const grant: Grant = { scope: entry.scope, refreshToken: '', refreshExpiresAt: 0, accessTokens: new Set() };
      return tokenReply(200, this.#answer(grant));
    }
    if (grantType === 'refresh_token') {
      if (!hasExactly(form, ['client_id', 'grant_type', 'refresh_token'])) return tokenReply(400, { error: 'invalid_request' });
      const grant = this.#grants.get(form.get('refresh_token')!);
      if (!grant || grant.refreshExpiresAt <= this.#now())
        return tokenReply(400, { error: 'invalid_grant', error_description: 'refresh token expired, revoked or already used' });
      return tokenReply(200, this.#answer(grant));
    }
    return tokenReply(400, { error: 'unsupported_grant_type' });
  }

  // Every answer rotates: the old refresh token dies, a new one lives 30 days.
  #answer(grant: Grant): Record<string, unknown> {
    this.#grants.delete(grant.refreshToken);
    grant.refreshToken = opaque('fdx_rt');
    grant.refreshExpiresAt = this.#now() + REFRESH_TOKEN_LIFETIME_MS;
    this.#grants.set(grant.refreshToken, grant);
    const accessToken = this.tokens.issue('fdx_at', this.accessTokenLifetime);
    grant.accessTokens.add(accessToken);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.accessTokenLifetime,
      refresh_token: grant.refreshToken,
      scope: grant.scope.join(' '),
    };
  }

  #revoke(request: RecordedRequest): Reply {
    const refused = this.#client(request);
    if (refused) return refused;
    const form = formOf(request);
    if (!form || !(hasExactly(form, ['token']) || hasExactly(form, ['token', 'token_type_hint'])))
      return json(400, { error: 'invalid_request' });
    const hint = form.get('token_type_hint');
    if (hint !== null && hint !== 'access_token' && hint !== 'refresh_token') return json(400, { error: 'unsupported_token_type' });
    const token = form.get('token')!;
    const grant = this.#grants.get(token);
    if (grant) {
      this.#grants.delete(token);
      for (const accessToken of grant.accessTokens) this.tokens.revoke(accessToken);
    } else {
      this.tokens.revoke(token);
    }
    // RFC 7009 §2.2: 200 whether or not the token was known.
    return { status: 200 };
  }
}

export function startFdx(options?: FdxOptions): Promise<FdxEmulator> {
  return new FdxEmulator(options).start();
}
