import { ConfigurationError, ConnectionError, OAuthError, ResponseTooLargeError, TokenResponseError } from './errors.js';
import { readLimited } from './limited.js';
import { resolvePointer } from './pointer.js';
import type { ApplyRules, AuthProfile, BodyFormat, ClientAuthentication, ErrorMap, ParameterMap } from './profile.js';
import { redactSecrets } from './redact.js';
import { isHeaderToken, type Tokens, toTokens } from './tokens.js';

/** Template values of one request: standard names (clientId, code, ...) and extra inputs. */
export type Values = Record<string, string | undefined>;

// Template names whose values are credentials; extra inputs count as secret too.
const SECRET_VALUES = ['clientSecret', 'code', 'codeVerifier', 'refreshToken', 'accessToken', 'token'];

const TEMPLATE = /^\{([^{}]+)\}$/;

// Token, error and revocation bodies are a few hundred bytes; anything near
// this is an attack or a misrouted request, and is not read into memory.
const MAX_ENDPOINT_RESPONSE_BYTES = 1024 * 1024;

export const RFC6749_ERROR: ErrorMap = { code: '/error', description: '/error_description', uri: '/error_uri' };

interface EndpointCall {
  url: URL;
  clientAuthentication: ClientAuthentication;
  bodyFormat: BodyFormat;
  parameters: ParameterMap;
  values: Values;
  /** Extra inputs the request declares: each must have a value. */
  inputs?: readonly string[] | undefined;
  apply: ApplyRules;
  fetch: typeof fetch;
  what: string;
  signal?: AbortSignal | undefined;
}

export interface EndpointResponse {
  status: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
  /** Every secret value the request carried, for redacting whatever comes back. */
  secrets: string[];
}

/** Fills a parameter map: a `{name}` template takes `values[name]` and is dropped when that is undefined. */
export function fillParameters(parameters: ParameterMap, values: Values): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, template] of Object.entries(parameters)) {
    const match = TEMPLATE.exec(template);
    const value = match ? values[match[1]!] : template;
    if (value !== undefined) out.push([name, value]);
  }
  return out;
}

// RFC 6749 §2.3.1: id and secret are each application/x-www-form-urlencoded
// before they are joined with ':' and Base64-encoded.
export const basicCredentials = (id: string, secret: string): string => btoa(`${formEncode(id)}:${formEncode(secret)}`);

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function need(value: string | undefined, name: string, what: string): string {
  if (value === undefined || value === '') throw new ConfigurationError(`the ${what} needs ${name}`);
  return value;
}

/**
 * One POST to a token-style endpoint, built only from the profile and the
 * values: callers cannot add headers, so nothing overrides the Authorization
 * header. Redirects are never followed (RFC 9700 §4.11): a 3xx comes back as
 * a status for the caller to refuse.
 */
export async function callEndpoint(call: EndpointCall): Promise<EndpointResponse> {
  const secrets = [...SECRET_VALUES, ...(call.inputs ?? [])].map((name) => call.values[name]).filter((v): v is string => v !== undefined);
  for (const input of call.inputs ?? []) need(call.values[input], `the input "${input}"`, call.what);

  const entries = fillParameters(call.parameters, call.values);
  const headers: Record<string, string> = { accept: 'application/json' };
  switch (call.clientAuthentication) {
    case 'client_secret_basic': {
      const id = need(call.values.clientId, 'clientId', call.what);
      const secret = need(call.values.clientSecret, 'clientSecret', call.what);
      const credentials = basicCredentials(id, secret);
      secrets.push(credentials);
      headers.authorization = `Basic ${credentials}`;
      break;
    }
    case 'client_secret_post': {
      const id = need(call.values.clientId, 'clientId', call.what);
      const secret = need(call.values.clientSecret, 'clientSecret', call.what);
      const names = new Set(entries.map(([name]) => name));
      const credentials: [string, string][] = [];
      if (!names.has('client_id')) credentials.push(['client_id', id]);
      if (!names.has('client_secret')) credentials.push(['client_secret', secret]);
      entries.unshift(...credentials);
      break;
    }
    case 'bearer': {
      const token = need(call.values.accessToken, 'an access token', call.what);
      headers.authorization = call.apply.scheme ? `${call.apply.scheme} ${token}` : token;
      break;
    }
    // Stryker disable next-line ConditionalExpression,StringLiteral: the last case, and 'none' does nothing: emptying it or making it match no value leaves the same headers and body
    case 'none':
      break;
  }

  let body: string;
  if (call.bodyFormat === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(Object.fromEntries(entries));
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(entries).toString();
  }

  // Called unbound: Workers' fetch throws "Illegal invocation" when `this` is not the global.
  const send = call.fetch;
  let response: Response;
  try {
    response = await send(call.url.href, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      ...(call.signal ? { signal: call.signal } : {}),
    });
  } catch (error) {
    // A timeout or the caller's abort: its reason is the error to report.
    if (call.signal?.aborted) throw call.signal.reason;
    throw new ConnectionError('POST', `${call.url.origin}${call.url.pathname}`, error, secrets);
  }
  // Browsers hide a manual redirect behind an opaque status 0 response.
  const status = response.type === 'opaqueredirect' ? 302 : response.status;
  const text = await readLimited(
    response,
    MAX_ENDPOINT_RESPONSE_BYTES,
    `the ${call.what} answered with more than any token or error response needs`,
  ).then(
    (bytes) => new TextDecoder().decode(bytes),
    (error: unknown) => {
      if (error instanceof ResponseTooLargeError) throw error;
      // Stryker disable next-line StringLiteral: the text only feeds the JSON.parse below, and any non-JSON text parses to undefined just as '' does
      return '';
    },
  );
  call.signal?.throwIfAborted();
  let parsed: unknown;
  try {
    // Stryker disable next-line StringLiteral: JSON.parse of '' throws and is caught, so matching some other non-JSON text instead of '' still gives undefined
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status, body: parsed, secrets };
}

const MAX_TEXT = 500;

/** A server-sent value as text fit for an error: known secrets cut out, truncated. */
export function safeText(value: unknown, secrets: readonly string[]): string | undefined {
  if (typeof value === 'string' && value !== '') return redactSecrets(value, secrets).slice(0, MAX_TEXT);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

interface ExtractedError {
  error?: string;
  errorDescription?: string;
  errorUri?: string;
}

/** The error fields of a response body, via the profile's error map, redacted and truncated. */
export function extractError(body: unknown, map: ErrorMap, secrets: readonly string[]): ExtractedError {
  const out: Record<string, string> = {};
  for (const [field, pointer] of [
    ['error', map.code],
    ['errorDescription', map.description],
    ['errorUri', map.uri],
  ] as const) {
    const value = pointer === undefined ? undefined : safeText(resolvePointer(body, pointer), secrets);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

interface ParseContext {
  now: number;
  /** What was asked for; RFC 6749 §5.1 says an omitted scope means exactly that. */
  requestedScope?: string[] | undefined;
}

/** Splits a scope string on the profile's separator. */
function splitScope(profile: AuthProfile, scope: string): string[] {
  return scope
    .split(profile.scope?.separator ?? ' ')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Turns a token endpoint response into Tokens, or throws: OAuthError for an
 * error code, TokenResponseError for anything else unusable. Field locations
 * come from the profile's response map.
 */
export function parseTokenResponse(profile: AuthProfile, response: EndpointResponse, context: ParseContext): Tokens {
  const { status, body, secrets } = response;
  const errorMap = profile.token.error ?? RFC6749_ERROR;
  if (status >= 300 && status < 400) {
    throw new TokenResponseError(`the token endpoint answered with a redirect (HTTP ${status}), which is not followed`, { status });
  }
  if (status < 200 || status >= 300) {
    const fields = extractError(body, errorMap, secrets);
    if (fields.error !== undefined) throw new OAuthError({ ...fields, error: fields.error, status });
    throw new TokenResponseError(`the token endpoint answered HTTP ${status}${body === undefined ? ' without a JSON body' : ''}`, {
      status,
      ...fields,
    });
  }
  if (!isObject(body)) throw new TokenResponseError('the token response is not a JSON object', { status });

  const map = profile.token.response;
  if (map.success !== undefined && resolvePointer(body, map.success) !== true) {
    throw new TokenResponseError('the token response reports failure', { status, ...extractError(body, errorMap, secrets) });
  }
  const accessToken = resolvePointer(body, map.accessToken);
  if (typeof accessToken !== 'string' || accessToken === '') {
    const fields = extractError(body, errorMap, secrets);
    if (fields.error !== undefined) throw new OAuthError({ ...fields, error: fields.error, status });
    throw new TokenResponseError(`the token response has no access token at ${map.accessToken}`, { status });
  }
  if (!isHeaderToken(accessToken))
    throw new TokenResponseError('the access token in the token response has characters a header cannot carry (RFC 6750 §2.1)', { status });
  const tokenType = map.tokenType === undefined ? map.defaultTokenType : (resolvePointer(body, map.tokenType) ?? map.defaultTokenType);
  if (typeof tokenType !== 'string' || tokenType === '') throw new TokenResponseError('the token response has no token type', { status });
  // RFC 6749 §7.1: a client must not use a token type it does not understand;
  // the profile's scheme is the only one this client knows how to send.
  const understood = [profile.apply.scheme, map.defaultTokenType].filter((t): t is string => Boolean(t)).map((t) => t.toLowerCase());
  if (understood.length > 0 && !understood.includes(tokenType.toLowerCase())) {
    throw new TokenResponseError(
      `the token endpoint issued an access token of token type ${JSON.stringify(safeText(tokenType, secrets)!.slice(0, 40))}, which this provider's profile does not send (it sends ${understood.join(', ')}; RFC 6749 §7.1)`,
      { status },
    );
  }

  const tokens: Tokens = { accessToken, tokenType, raw: body };

  const refreshToken = map.refreshToken === undefined ? undefined : resolvePointer(body, map.refreshToken);
  if (refreshToken !== undefined && refreshToken !== null) {
    // RFC 6749 Appendix A.17: 1*VSCHAR.
    if (typeof refreshToken !== 'string' || !/^[\x20-\x7e]+$/.test(refreshToken))
      throw new TokenResponseError('the refresh token in the token response is not a string of visible ASCII characters', { status });
    tokens.refreshToken = refreshToken;
  }

  const scope = map.scope === undefined ? undefined : resolvePointer(body, map.scope);
  if (typeof scope === 'string') tokens.scope = splitScope(profile, scope);
  else if (context.requestedScope !== undefined) tokens.scope = context.requestedScope;

  const expiresAt = expiryOf(profile, body, context.now, status);
  if (expiresAt !== undefined) tokens.expiresAt = expiresAt;
  return toTokens(tokens);
}

// expires_in: 1e308 would make expiresAt Infinity, which JSON stores as null.
// Ten years is longer than any access token a provider documents.
const MAX_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

function expiryOf(profile: AuthProfile, body: Record<string, unknown>, now: number, status: number): number | undefined {
  const map = profile.token.response;
  if (map.expiresIn !== undefined) {
    const raw = resolvePointer(body, map.expiresIn);
    if (raw !== undefined && raw !== null) {
      const seconds = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
        throw new TokenResponseError('expires_in in the token response is not a non-negative number', { status });
      }
      return now + Math.min(seconds, MAX_LIFETIME_SECONDS) * 1000;
    }
  }
  if (map.expiresAt !== undefined) {
    const raw = resolvePointer(body, map.expiresAt);
    if (raw !== undefined && raw !== null) {
      const at = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
      if (Number.isNaN(at)) throw new TokenResponseError('the expiry time in the token response is not an ISO 8601 timestamp', { status });
      return at;
    }
  }
  if (profile.expiry?.never) return undefined;
  const lifetime = profile.expiry?.accessTokenLifetimeSeconds;
  return lifetime === undefined ? undefined : now + lifetime * 1000;
}
