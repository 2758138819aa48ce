// The provider's authorization server, as its profile describes it: the
// authorize endpoint (client, redirect URI, PKCE, scopes, state, consent),
// the token endpoint (client authentication, each grant's parameters,
// lifetimes, refresh rotation with reuse detection, enveloped answers) and
// revocation. Every rule comes from x-portico-auth and the spec; nothing
// here knows a provider by name.
import { type AuthProfile, type ClientAuthentication, type GrantType, type ParameterMap, pkceChallenge } from '@portico/auth';
import { clientInputs, templateName, userInputs } from './facts.js';
import type { Provider, Route } from './provider.js';
import { examplesOf, type Replies, type Reply } from './reply.js';
import { deleteAt, FORM_TYPE, formObject, isJsonType, parametersOf, type Schemas, setAt, valueAt } from './schemas.js';
import { deref, type Json } from './values.js';

/** The client the mock accepts. */
export interface MockClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** The client's own extra inputs (Dapi's appSecret). */
  inputs: Record<string, string>;
}

export interface Stats {
  /** Refresh tokens presented again after they were rotated away (each revoked its grant). */
  refreshTokenReuse: number;
  /** Access tokens issued. */
  tokensIssued: number;
  /** Grants ended: revoked, delinked, or ended by reuse detection. */
  grantsRevoked: number;
}

interface Grant {
  scope: string[];
  refreshToken?: string;
  refreshExpiresAt: number;
  accessTokens: Set<string>;
  revoked: boolean;
  /** The user who linked (access-code exchange), with the values Connect handed over. */
  user?: Record<string, string>;
}

interface AccessToken {
  grant: Grant;
  /** Infinity for a token whose lifetime nobody states (neither the profile, nor the token answer, nor the options). */
  expiresAt: number;
  /** The profile says tokens never expire (`expiry.never`, Dapi's): expireAccessTokens() leaves it valid. */
  permanent: boolean;
}

interface Code {
  redirectUri?: string;
  challenge?: string;
  scope: string[];
  expiresAt: number;
  /** The grant the code was exchanged for: a second exchange of the code ends it (RFC 6749 §4.1.2). */
  grant?: Grant;
}

interface LinkedUser {
  values: Record<string, string>;
  expiresAt: number;
  grant?: Grant;
}

/** How long an authorization or access code lives when the profile's codeLifetimeSeconds does not say: RFC 6749 §4.1.2's recommended maximum. */
const DEFAULT_CODE_LIFETIME_S = 600;
/** An access token's lifetime when neither the options nor the profile give one. */
const DEFAULT_LIFETIME_S = 3600;

type ErrorKind =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'unsupported_token_type';

/** Kinds that say the request is malformed: always the documented 400, never a 2xx failure. */
const SHAPE_ERRORS = new Set<ErrorKind>(['invalid_request', 'unsupported_grant_type', 'unsupported_token_type']);

export interface OAuthOptions {
  client: MockClient;
  now: () => number;
  random: (prefix: string) => string;
  accessTokenLifetimeSeconds: number | undefined;
  rotateRefreshTokens: boolean;
}

export class AuthorizationServer {
  readonly stats: Stats = { refreshTokenReuse: 0, tokensIssued: 0, grantsRevoked: 0 };
  readonly #provider: Provider;
  readonly #profile: AuthProfile;
  readonly #schemas: Schemas;
  readonly #replies: Replies;
  readonly #options: OAuthOptions;
  readonly #codes = new Map<string, Code>();
  readonly #access = new Map<string, AccessToken>();
  readonly #refresh = new Map<string, Grant>();
  /** Refresh tokens rotated away, by the grant they belonged to. */
  readonly #spent = new Map<string, Grant>();
  readonly #users: LinkedUser[] = [];
  readonly #grants = new Set<Grant>();

  constructor(provider: Provider, schemas: Schemas, replies: Replies, options: OAuthOptions) {
    this.#provider = provider;
    this.#profile = provider.profile;
    this.#schemas = schemas;
    this.#replies = replies;
    this.#options = options;
  }

  reset(): void {
    this.#codes.clear();
    this.#access.clear();
    this.#refresh.clear();
    this.#spent.clear();
    this.#users.length = 0;
    this.#grants.clear();
    Object.assign(this.stats, { refreshTokenReuse: 0, tokensIssued: 0, grantsRevoked: 0 });
  }

  /** How long a code lives: the profile's codeLifetimeSeconds (Dapi's access code: 30 minutes), else RFC 6749's 10 minutes. */
  #codeLifetimeMs(): number {
    const seconds: number | undefined = (this.#provider.doc['x-portico-auth'] as Json).codeLifetimeSeconds;
    return (seconds ?? DEFAULT_CODE_LIFETIME_S) * 1000;
  }

  /** The scopes the spec documents for the OAuth scheme (none: any scope goes). */
  #documentedScopes(): Set<string> | undefined {
    const scheme = this.#provider.doc.components?.securitySchemes?.[this.#profile.securityScheme ?? ''];
    const scopes = Object.values<Json>(scheme?.flows ?? {}).flatMap((flow) => Object.keys(flow.scopes ?? {}));
    return scopes.length ? new Set(scopes) : undefined;
  }

  #splitScope(text: string | undefined): string[] {
    const separator = this.#profile.scope?.separator ?? ' ';
    return (text ?? '').split(separator).filter((s) => s !== '');
  }

  /** A scope problem of a request, if any. */
  #scopeProblem(scope: string[], required: readonly string[] = []): string | undefined {
    const documented = this.#documentedScopes();
    const unknown = documented ? scope.filter((s) => !documented.has(s)) : [];
    if (unknown.length) return `unknown scope ${unknown.join(', ')}`;
    const missing = required.filter((s) => !scope.includes(s));
    return missing.length ? `the scope must include ${missing.join(', ')}` : undefined;
  }

  // ---- the authorize endpoint ----

  /**
   * The authorize endpoint's answer to `url`: a redirect to the client (with
   * a code, or an error the client reads), or an error page when the client
   * or its redirect URI is unknown (never a redirect to an unchecked URI).
   */
  authorize(url: URL, deny: boolean): Reply & { location?: string } {
    const authorization = this.#profile.authorization!;
    const route = this.#provider.endpoint('authorization');
    const wire = wireNames(authorization.parameters);
    const q = url.searchParams;
    // An error page, in the documented 400's shape, with the code and description where the profile's error map reads them.
    const refuse = (description: string) => {
      const reply = this.#replies.error(route, 400, description);
      const errorMap = this.#profile.token.error;
      if (reply.body !== null && typeof reply.body === 'object') {
        if (errorMap?.code && valueAt(reply.body, errorMap.code) !== undefined) setAt(reply.body, errorMap.code, 'invalid_request');
        if (errorMap?.description) setAt(reply.body, errorMap.description, description);
      }
      return reply;
    };
    // RFC 6749 §3.1: no parameter is sent twice. A repeated client or redirect URI gets the error page: the mock cannot tell which one to redirect to.
    const repeated = repeatedNames(q);
    for (const name of [wire.clientId, wire.redirectUri])
      if (name !== undefined && repeated.includes(name)) return refuse(`${name} is repeated`);
    const clientId = wire.clientId ? q.get(wire.clientId) : this.#options.client.clientId;
    if (clientId !== this.#options.client.clientId) return refuse('unknown client_id');
    const givenRedirect = wire.redirectUri ? q.get(wire.redirectUri) : null;
    const redirectUri =
      givenRedirect ?? (paramRequired(this.#provider, route, wire.redirectUri) ? null : this.#options.client.redirectUris[0]);
    if (!redirectUri || !this.#options.client.redirectUris.some((registered) => sameRedirect(registered, redirectUri)))
      return refuse('redirect_uri is not one the client registered');

    const callback = authorization.callback ?? {};
    const back = new URL(redirectUri);
    const state = wire.state ? q.get(wire.state) : null;
    const finish = (params: Record<string, string>): Reply & { location: string } => {
      for (const [name, value] of Object.entries(params)) back.searchParams.set(name, value);
      if (state !== null) back.searchParams.set(callback.state ?? 'state', state);
      return { status: 302, headers: { location: back.href }, location: back.href };
    };
    const fail = (error: string, description: string) =>
      finish({ [callback.error ?? 'error']: error, [callback.errorDescription ?? 'error_description']: description });

    if (repeated.length) return fail('invalid_request', `${repeated.join(', ')} must not be repeated`);
    // Literal parameters (response_type=code, code_challenge_method=S256) must be as the profile sends them; `plain` is refused.
    for (const [name, value] of Object.entries(authorization.parameters)) {
      if (templateName(value) !== undefined) continue;
      const got = q.get(name);
      if (got === value || (got === null && !paramRequired(this.#provider, route, name))) continue;
      if (name === 'response_type' && got !== null) return fail('unsupported_response_type', `${name} must be ${value}`);
      return fail('invalid_request', `${name} must be ${value}`);
    }
    const challenge = wire.codeChallenge ? (q.get(wire.codeChallenge) ?? undefined) : undefined;
    if (authorization.pkce === 'required' && challenge === undefined)
      return fail('invalid_request', 'PKCE is required: send code_challenge with S256');
    if (challenge !== undefined) {
      const min = Math.max(43, authorization.codeChallengeMinLength ?? 0);
      // An S256 challenge is 43 base64url characters; RFC 7636 §4.2 allows 43 to 128 unreserved ones.
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge) || challenge.length < min)
        return fail('invalid_request', 'the code_challenge is malformed');
    }
    const scope = wire.scope ? this.#splitScope(q.get(wire.scope) ?? undefined) : [];
    const granted = scope.length ? scope : [...(this.#profile.scope?.default ?? [])];
    const scopeProblem = this.#scopeProblem(granted, authorization.requiredScopes);
    if (scopeProblem) return fail('invalid_scope', scopeProblem);
    const problems = route ? this.#paramProblems(route, q) : [];
    if (problems.length) return fail('invalid_request', problems.join('; '));
    if (deny) {
      const params: Record<string, string> = { [callback.error ?? 'error']: 'access_denied' };
      if (callback.errorCode) params[callback.errorCode] = 'access_denied';
      return finish(params);
    }
    const code = this.#options.random('code');
    this.#codes.set(code, {
      ...(givenRedirect === null ? {} : { redirectUri: givenRedirect }),
      ...(challenge === undefined ? {} : { challenge }),
      scope: granted,
      expiresAt: this.#options.now() + this.#codeLifetimeMs(),
    });
    return finish({ [callback.code ?? 'code']: code });
  }

  /** Query parameters against their schemas (strings read as the schema's types). */
  #paramProblems(route: Route, q: URLSearchParams): string[] {
    const problems: string[] = [];
    for (const { param, pointer } of parametersOf(this.#provider, route)) {
      if (param.in !== 'query') continue;
      const value = q.get(param.name);
      if (value === null) {
        if (param.required) problems.push(`${param.name} is required`);
        continue;
      }
      const found = param.schema ? this.#schemas.problems(pointer, value, true) : [];
      if (found.length) problems.push(`${param.name}: ${found[0]}`);
    }
    return problems;
  }

  // ---- the token endpoint ----

  /** The token endpoint's answer. */
  async token(request: Request, body: string): Promise<Reply> {
    const route = this.#provider.endpoint('token');
    const token = this.#profile.token;
    const error = (kind: ErrorKind, description: string, basic = false) => this.#error('token', route, kind, description, basic);
    const form = this.#readParams(body, request.headers.get('content-type'), token.bodyFormat);
    if (!form) return error('invalid_request', `the body must be ${token.bodyFormat === 'form' ? FORM_TYPE : 'JSON'}`);
    const repeated = token.bodyFormat === 'form' ? repeatedNames(new URLSearchParams(body)) : [];
    if (repeated.length) return error('invalid_request', `${repeated.join(', ')} must not be repeated`);
    const authProblem = this.#authenticate(token.clientAuthentication, request, form);
    if (authProblem)
      return error(
        authProblem.kind,
        authProblem.description,
        authProblem.kind === 'invalid_client' && token.clientAuthentication === 'client_secret_basic',
      );
    const grant = this.#grantOf(form);
    if (!grant) return error('unsupported_grant_type', 'this grant type is not supported');
    const { type, parameters, inputs } = grant;
    if (route) {
      const problems = this.#bodyProblems(route, form, token.bodyFormat);
      if (problems.length) return error('invalid_request', problems.join('; '));
    }
    const values = valuesOf(parameters, form);
    for (const [name, template] of Object.entries(parameters)) {
      const key = templateName(template);
      if (key && key !== 'scope' && key !== 'state' && !Object.hasOwn(form, name)) return error('invalid_request', `${name} is required`);
    }
    if (values.clientId !== undefined && values.clientId !== this.#options.client.clientId)
      return error('invalid_request', 'client_id is not the authenticated client');
    for (const name of clientInputs(this.#profile)) {
      if ((inputs ?? []).includes(name) && values[name] !== this.#options.client.inputs[name])
        return error('invalid_client', `${name} is not the client's`);
    }
    switch (type) {
      case 'authorization_code':
        return this.#exchangeCode(route, values);
      case 'refresh_token':
        return this.#refreshGrant(route, values);
      case 'client_credentials': {
        const scope = values.scope === undefined ? [...(this.#profile.scope?.default ?? [])] : this.#splitScope(values.scope);
        const problem = this.#scopeProblem(scope);
        if (problem) return error('invalid_scope', problem);
        return this.#tokenReply(route, this.#newGrant(scope), false);
      }
      case 'access_code_exchange':
        return this.#exchangeAccessCode(route, values, inputs ?? []);
    }
  }

  /** The grant whose literal parameters (grant_type=...) the request carries; with no literals, the one grant there is. */
  #grantOf(form: Record<string, string>): { type: GrantType; parameters: ParameterMap; inputs?: string[] } | undefined {
    for (const type of this.#profile.grants) {
      const request = this.#profile.token.grants[type];
      if (!request) continue;
      const literals = Object.entries(request.parameters).filter(([, v]) => templateName(v) === undefined);
      if (literals.every(([name, value]) => form[name] === value))
        return { type, parameters: request.parameters, ...(request.inputs ? { inputs: request.inputs } : {}) };
    }
    return undefined;
  }

  async #exchangeCode(route: Route | undefined, values: Record<string, string | undefined>): Promise<Reply> {
    const error = (kind: ErrorKind, description: string) => this.#error('token', route, kind, description);
    const code = values.code ?? '';
    const entry = this.#codes.get(code);
    if (!entry) return error('invalid_grant', 'the authorization code is unknown, used or expired');
    if (entry.grant) {
      // RFC 6749 §4.1.2: a code used twice ends what it was exchanged for.
      this.#end(entry.grant);
      this.#codes.delete(code);
      return error('invalid_grant', 'the authorization code was already used');
    }
    if (entry.expiresAt <= this.#options.now()) {
      this.#codes.delete(code);
      return error('invalid_grant', 'the authorization code expired');
    }
    if (entry.redirectUri !== undefined && values.redirectUri !== undefined && values.redirectUri !== entry.redirectUri)
      return error('invalid_grant', 'redirect_uri differs from the authorization request');
    if (entry.challenge !== undefined) {
      const verifier = values.codeVerifier;
      if (verifier === undefined || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier))
        return error('invalid_grant', 'the code_verifier is missing or malformed');
      if ((await pkceChallenge(verifier)) !== entry.challenge)
        return error('invalid_grant', 'the code_verifier does not match the code_challenge');
    }
    const grant = this.#newGrant(entry.scope);
    entry.grant = grant;
    return this.#tokenReply(route, grant, this.#profile.grants.includes('refresh_token'));
  }

  #refreshGrant(route: Route | undefined, values: Record<string, string | undefined>): Reply {
    const error = (kind: ErrorKind, description: string) => this.#error('token', route, kind, description);
    const presented = values.refreshToken ?? '';
    const spent = this.#spent.get(presented);
    if (spent) {
      // A rotated refresh token used again: someone holds a copy. End the whole grant (RFC 9700 §4.14.2).
      this.stats.refreshTokenReuse += 1;
      this.#end(spent);
      return error('invalid_grant', 'the refresh token was already used');
    }
    const grant = this.#refresh.get(presented);
    if (!grant || grant.revoked) return error('invalid_grant', 'the refresh token is invalid or revoked');
    if (grant.refreshExpiresAt <= this.#options.now()) return error('invalid_grant', 'the refresh token expired');
    if (values.scope !== undefined) {
      const asked = this.#splitScope(values.scope);
      if (asked.some((s) => !grant.scope.includes(s))) return error('invalid_scope', 'a refresh cannot widen the scope');
    }
    const rotate = this.#options.rotateRefreshTokens;
    if (rotate) {
      this.#refresh.delete(presented);
      this.#spent.set(presented, grant);
      grant.refreshToken = undefined;
    }
    return this.#tokenReply(route, grant, rotate);
  }

  #exchangeAccessCode(route: Route | undefined, values: Record<string, string | undefined>, inputs: string[]): Reply {
    const error = (kind: ErrorKind, description: string) => this.#error('token', route, kind, description);
    const asked = inputs.filter((name) => userInputs(this.#profile).includes(name));
    const user = this.#users.find((u) => asked.every((name) => u.values[name] === values[name]));
    if (!user || user.grant || user.expiresAt <= this.#options.now())
      return error('invalid_grant', 'the access code is invalid, used or expired');
    const grant = this.#newGrant([]);
    grant.user = user.values;
    user.grant = grant;
    return this.#tokenReply(route, grant, false);
  }

  /** What a Connect-style front end hands the app once a user links: the values the grant and revocation take from the user. */
  connect(): Record<string, string> {
    const names = userInputs(this.#profile);
    const values = Object.fromEntries(names.map((name) => [name, this.#options.random(name)]));
    this.#users.push({ values, expiresAt: this.#options.now() + this.#codeLifetimeMs() });
    return values;
  }

  #newGrant(scope: string[]): Grant {
    const grant: Grant = { scope, refreshExpiresAt: Number.POSITIVE_INFINITY, accessTokens: new Set(), revoked: false };
    this.#grants.add(grant);
    return grant;
  }

  /** Issues an access token (and a refresh token when asked) for `grant`, answered in the profile's token response shape. */
  #tokenReply(route: Route | undefined, grant: Grant, withRefresh: boolean): Reply {
    const { response } = this.#profile.token;
    const now = this.#options.now();
    const status = String(this.#successStatus(route));
    const media = route ? (this.#replies.mediaFor(route, status) ?? 'application/json') : 'application/json';
    const template = route ? examplesOf(this.#provider.doc, this.#provider.responseOf(route, status)?.content?.[media])[0] : undefined;
    // Expiry fields go out where the provider's documented answer has them (Finexer's has none: its tokens say nothing of their lifetime).
    const documentsExpiry =
      template === undefined || [response.expiresIn, response.expiresAt].some((p) => p !== undefined && valueAt(template, p) !== undefined);
    const configured = this.#options.accessTokenLifetimeSeconds ?? this.#profile.expiry?.accessTokenLifetimeSeconds;
    const never = this.#profile.expiry?.never === true || (!documentsExpiry && configured === undefined);
    const lifetime = configured ?? DEFAULT_LIFETIME_S;
    const accessToken = this.#options.random('at');
    this.#access.set(accessToken, {
      grant,
      expiresAt: never ? Number.POSITIVE_INFINITY : now + lifetime * 1000,
      permanent: this.#profile.expiry?.never === true,
    });
    grant.accessTokens.add(accessToken);
    this.stats.tokensIssued += 1;
    if (withRefresh) {
      grant.refreshToken = this.#options.random('rt');
      this.#refresh.set(grant.refreshToken, grant);
      const days = (this.#provider.doc['x-portico-auth'] as Json).refresh?.refreshTokenLifetimeSeconds;
      grant.refreshExpiresAt = typeof days === 'number' ? now + days * 1000 : Number.POSITIVE_INFINITY;
    }
    // The documented success body, so fields the profile does not map (Finexer's account_id) are there too.
    const body: Json = template !== null && typeof template === 'object' ? structuredClone(template) : {};
    for (const pointer of [response.refreshToken, response.expiresIn, response.expiresAt, response.scope])
      if (pointer) deleteAt(body, pointer);
    if (response.success) setAt(body, response.success, true);
    setAt(body, response.accessToken, accessToken);
    if (response.tokenType) {
      const documented = valueAt(template, response.tokenType);
      setAt(
        body,
        response.tokenType,
        typeof documented === 'string' ? documented : (response.defaultTokenType ?? this.#profile.apply.scheme),
      );
    }
    if (withRefresh && response.refreshToken) setAt(body, response.refreshToken, grant.refreshToken);
    if (response.scope && grant.scope.length) setAt(body, response.scope, grant.scope.join(this.#profile.scope?.separator ?? ' '));
    if (!never && documentsExpiry && response.expiresIn) setAt(body, response.expiresIn, lifetime);
    if (!never && documentsExpiry && response.expiresAt) setAt(body, response.expiresAt, new Date(now + lifetime * 1000).toISOString());
    return { status: Number(status), body, media, headers: NO_STORE };
  }

  #successStatus(route: Route | undefined): number {
    const status = route ? this.#replies.statuses(route).find((s) => /^2\d\d$/.test(s)) : undefined;
    return status === undefined ? 200 : Number(status);
  }

  // ---- revocation ----

  /** The revocation endpoint's answer. */
  revoke(request: Request, body: string): Reply {
    const revocation = this.#profile.revocation!;
    const route = this.#provider.endpoint('revocation');
    const error = (kind: ErrorKind, description: string, basic = false) => this.#error('revocation', route, kind, description, basic);
    const form = this.#readParams(body, request.headers.get('content-type'), revocation.bodyFormat);
    if (!form) return error('invalid_request', `the body must be ${revocation.bodyFormat === 'form' ? FORM_TYPE : 'JSON'}`);
    const repeated = revocation.bodyFormat === 'form' ? repeatedNames(new URLSearchParams(body)) : [];
    if (repeated.length) return error('invalid_request', `${repeated.join(', ')} must not be repeated`);
    let bearerGrant: Grant | undefined;
    if (revocation.clientAuthentication === 'bearer') {
      const token = this.#access.get(this.bearer(request) ?? '');
      if (!token || !this.valid(this.bearer(request))) return this.#replies.error(route, 401, 'the access token is invalid');
      bearerGrant = token.grant;
    } else {
      const authProblem = this.#authenticate(revocation.clientAuthentication, request, form);
      if (authProblem)
        return error(
          authProblem.kind,
          authProblem.description,
          authProblem.kind === 'invalid_client' && revocation.clientAuthentication === 'client_secret_basic',
        );
    }
    const values = valuesOf(revocation.parameters, form);
    // The hint names the kind of token: one this server does not revoke is unsupported_token_type (RFC 7009 §2.2.1), before the body's other checks.
    const hint = values.tokenTypeHint;
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token')
      return error('unsupported_token_type', `token_type_hint ${hint} is not supported`);
    if (route) {
      const problems = this.#bodyProblems(route, form, revocation.bodyFormat);
      if (problems.length) return error('invalid_request', problems.join('; '));
    }
    for (const name of clientInputs(this.#profile)) {
      if ((revocation.inputs ?? []).includes(name) && values[name] !== this.#options.client.inputs[name])
        return error('invalid_client', `${name} is not the client's`);
    }
    const done = (): Reply => {
      const status = String(revocation.successStatus[0] ?? 200);
      const media = route ? this.#replies.mediaFor(route, status) : undefined;
      const documented = route ? this.#replies.documented(route, status, media) : undefined;
      if (documented !== null && typeof documented === 'object' && revocation.success) setAt(documented, revocation.success, true);
      return { status: Number(status), ...(documented === undefined ? {} : { body: documented, media }) };
    };
    if (bearerGrant) {
      const user = bearerGrant.user ?? {};
      const wrong = (revocation.inputs ?? []).filter((name) => Object.hasOwn(user, name) && values[name] !== user[name]);
      if (wrong.length) return error('invalid_grant', `${wrong.join(', ')} do not belong to this token's user`);
      this.#end(bearerGrant);
      return done();
    }
    const presented = values.refreshToken ?? values.token ?? values.accessToken ?? '';
    const grant = this.#refresh.get(presented) ?? this.#spent.get(presented);
    const access = this.#access.get(presented);
    if (grant) this.#end(grant);
    else if (access && (revocation.revokes === 'grant' || values.refreshToken !== undefined)) this.#end(access.grant);
    else if (access) {
      this.#access.delete(presented);
      access.grant.accessTokens.delete(presented);
    } else if (revocation.standard !== 'rfc7009') {
      // RFC 7009 §2.2 answers success for an unknown token; a provider of its own reports it.
      return error('invalid_grant', 'the token is unknown or already revoked');
    }
    return done();
  }

  // ---- shared ----

  /** The access token a request carries where the profile applies it. */
  bearer(request: Request): string | undefined {
    const { header, scheme } = this.#profile.apply;
    const value = request.headers.get(header) ?? '';
    const prefix = `${scheme.toLowerCase()} `;
    return value.toLowerCase().startsWith(prefix) ? value.slice(prefix.length).trim() : undefined;
  }

  valid(token: string | undefined): boolean {
    const entry = token === undefined ? undefined : this.#access.get(token);
    return entry !== undefined && !entry.grant.revoked && this.#options.now() < entry.expiresAt;
  }

  /** The scopes granted with a token. */
  scopeOf(token: string): string[] {
    return this.#access.get(token)?.grant.scope ?? [];
  }

  /**
   * Where an API request's body carries the client's own inputs or a user's
   * (Dapi sends `appSecret` and `userSecret` with every data and payment
   * call), why it is refused: one that is not the client's, or not the user's
   * who holds `token`.
   */
  inputProblem(token: string, body: unknown): string | undefined {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
    const sent = body as Record<string, unknown>;
    for (const name of clientInputs(this.#profile))
      if (Object.hasOwn(sent, name) && sent[name] !== this.#options.client.inputs[name]) return `${name} is not the client's`;
    const user = this.#access.get(token)?.grant.user ?? {};
    for (const name of userInputs(this.#profile))
      if (Object.hasOwn(sent, name) && Object.hasOwn(user, name) && sent[name] !== user[name])
        return `${name} does not belong to this access token's user`;
    return undefined;
  }

  /**
   * Every access token now expired, also one whose lifetime the provider
   * never states (Finexer's: it lives until this, or a revocation); a
   * permanent one (the profile's `expiry.never`) stays valid.
   */
  expireAccessTokens(): void {
    const now = this.#options.now();
    for (const entry of this.#access.values()) if (!entry.permanent) entry.expiresAt = Math.min(entry.expiresAt, now);
  }

  /** Every grant ended: refresh tokens refused, access tokens refused. */
  revokeGrants(): void {
    for (const grant of this.#grants) this.#end(grant);
  }

  #end(grant: Grant): void {
    if (!grant.revoked) this.stats.grantsRevoked += 1;
    grant.revoked = true;
    for (const token of grant.accessTokens) this.#access.delete(token);
    grant.accessTokens.clear();
    if (grant.refreshToken) this.#refresh.delete(grant.refreshToken);
  }

  /** The request's parameters as strings, read by the endpoint's body format; undefined when the body is not in it. */
  #readParams(body: string, contentType: string | null, format: 'form' | 'json'): Record<string, string> | undefined {
    const media = contentType?.split(';')[0]?.trim().toLowerCase();
    if (format === 'form') {
      if (media !== FORM_TYPE) return undefined;
      return Object.fromEntries(new URLSearchParams(body));
    }
    if (!isJsonType(media)) return undefined;
    try {
      const value: unknown = JSON.parse(body);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return undefined;
    }
  }

  #bodyProblems(route: Route, form: Record<string, string>, format: 'form' | 'json'): string[] {
    const media = format === 'form' ? FORM_TYPE : 'application/json';
    const pointer = this.#schemas.contentPointer(route, 'request', media);
    if (!pointer) return [];
    const schema = deref<Json>(this.#provider.doc, route.op.requestBody)?.content?.[media]?.schema;
    const value = format === 'form' ? formObject(this.#provider.doc, schema, new URLSearchParams(form)) : form;
    return this.#schemas.problems(pointer, value, true);
  }

  /** Client authentication by the endpoint's method; RFC 6749 §2.3: one method per request. */
  #authenticate(
    method: ClientAuthentication,
    request: Request,
    form: Record<string, string>,
  ): { kind: ErrorKind; description: string } | undefined {
    const client = this.#options.client;
    const header = request.headers.get('authorization');
    if (method === 'client_secret_basic') {
      if (Object.hasOwn(form, 'client_secret'))
        return { kind: 'invalid_request', description: 'send the client secret in the Basic header only' };
      const basic = parseBasic(header);
      if (!basic || basic.id !== client.clientId || basic.secret !== client.clientSecret)
        return { kind: 'invalid_client', description: 'client authentication failed' };
      return undefined;
    }
    if (header !== null) return { kind: 'invalid_request', description: 'this endpoint takes no Authorization header' };
    if (method === 'client_secret_post' && (form.client_id !== client.clientId || form.client_secret !== client.clientSecret))
      return { kind: 'invalid_client', description: 'client authentication failed' };
    return undefined;
  }

  /**
   * An auth endpoint's error in the profile's error shape. The status is the
   * one the endpoint documents: 400 for a malformed request; for a refused
   * client, 401 where documented; otherwise, where the profile reads a
   * `success` flag (a 2xx body can say it failed), 200 with the flag false;
   * else the documented 400.
   */
  #error(part: 'token' | 'revocation', route: Route | undefined, kind: ErrorKind, description: string, basic = false): Reply {
    const endpoint = part === 'token' ? this.#profile.token : this.#profile.revocation!;
    const errorMap = endpoint.error ?? this.#profile.token.error ?? { code: '/error', description: '/error_description' };
    const statuses = route ? this.#replies.statuses(route) : [];
    const successFlag = part === 'token' ? this.#profile.token.response.success : this.#profile.revocation?.success;
    let status = 400;
    if (kind === 'invalid_client' && statuses.includes('401')) status = 401;
    else if (!SHAPE_ERRORS.has(kind) && successFlag) status = this.#successStatus(route);
    const media = route ? (this.#replies.mediaFor(route, String(status)) ?? 'application/json') : 'application/json';
    const documented = route && status >= 400 ? this.#replies.documented(route, String(status), media) : undefined;
    const body: Json = documented !== null && typeof documented === 'object' ? (documented as Json) : {};
    if (status < 400) for (const key of Object.keys(body)) delete body[key];
    if (successFlag) setAt(body, successFlag, false);
    for (const { pointer, equals } of (this.#provider.doc['x-portico-envelope']?.failure ?? []) as { pointer: string; equals: unknown }[])
      if (pointer !== successFlag) setAt(body, pointer, equals);
    if (errorMap.code) setAt(body, errorMap.code, this.#codeFor(route, status, media, errorMap.code, kind));
    if (errorMap.description) setAt(body, errorMap.description, description);
    const headers: Record<string, string> = { ...NO_STORE };
    if (status === 401 && basic) headers['www-authenticate'] = `Basic realm="${this.#provider.slug}"`;
    return { status, body, media, headers };
  }

  /** The error code for `kind`: RFC 6749's name where the schema takes it, else the name in capitals (a provider's own codes, like Dapi's, are not listed). */
  #codeFor(route: Route | undefined, status: number, media: string, pointer: string, kind: ErrorKind): string {
    const schemaPointer = route ? this.#schemas.contentPointer(route, { status: String(status) }, media) : undefined;
    if (!schemaPointer) return kind;
    const probe: Json = {};
    setAt(probe, pointer, kind);
    const problems = this.#schemas.problems(schemaPointer, probe);
    const about = pointer.split('/').pop() ?? '';
    return problems.some((p) => p.includes(`/${about}`)) ? kind.toUpperCase() : kind;
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * Whether `given` is the registered redirect URI: the same string, or, for
 * a loopback IP literal over http (127.0.0.1, [::1]), the same URI on any
 * port. RFC 8252 §7.3: a native app's loopback redirect listens on a port
 * the OS picks, and the server must allow any. Nothing else is relaxed.
 */
function sameRedirect(registered: string, given: string): boolean {
  if (registered === given) return true;
  const url = new URL(registered);
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') || !URL.canParse(given)) return false;
  url.port = '';
  // The same text but for a port after the host: no other normalisation (a trailing `#`, another case, a `..` are other URIs).
  const origin = `http://${url.host}`;
  const rest = url.href.slice(origin.length);
  const port = given.slice(origin.length, given.length - rest.length);
  return given.length >= origin.length + rest.length && given.startsWith(origin) && given.endsWith(rest) && /^(?::\d{1,5})?$/.test(port);
}

/** The names a query or form gives more than once (RFC 6749 §3.1 and §3.2: a parameter MUST NOT be included more than once). */
function repeatedNames(params: URLSearchParams): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of params.keys()) (seen.has(name) ? repeated : seen).add(name);
  return [...repeated];
}

/** Template name -> wire name, of one parameter map. */
function wireNames(parameters: ParameterMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [wire, value] of Object.entries(parameters)) {
    const name = templateName(value);
    if (name !== undefined) out[name] = wire;
  }
  return out;
}

/** The values of a request's templated parameters, by template name. */
function valuesOf(parameters: ParameterMap, form: Record<string, string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [wire, value] of Object.entries(parameters)) {
    const name = templateName(value);
    if (name !== undefined) out[name] = form[wire];
  }
  return out;
}

function paramRequired(provider: Provider, route: Route | undefined, name: string | undefined): boolean {
  if (!route || name === undefined) return false;
  const params = [...(route.pathItem.parameters ?? []), ...(route.op.parameters ?? [])].map((p) => deref<Json>(provider.doc, p));
  return params.some((p) => p.name === name && p.in === 'query' && p.required === true);
}

/** RFC 6749 §2.3.1: each of id and secret is form-urlencoded before they are joined. */
function parseBasic(header: string | null): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header ?? '');
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}
