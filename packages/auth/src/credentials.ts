// Credentials the user already holds (an API key, a username and password, a
// long-lived token): nothing to obtain or renew, only to put on the request
// where the spec's security scheme says.
import type { StaticTokenInput } from './authenticator.js';
import { ConfigurationError } from './errors.js';
import type { Authenticator, Credential, OutgoingRequest } from './lifecycle.js';
import type { CredentialProfile, CredentialRules, HeldCredentials } from './profile.js';
import { isHeaderToken } from './tokens.js';
import { assertSecureUrl } from './url.js';

/** `createClient({ auth: { apiKey } })` for an API-key provider. */
export interface ApiKeyInput {
  apiKey: string;
}

/** `createClient({ auth: { username, password } })` for HTTP Basic (RFC 7617). */
export interface BasicAuthInput {
  username: string;
  password: string;
}

export type CredentialInput = ApiKeyInput | BasicAuthInput | StaticTokenInput | Authenticator;

/** `input[key]` when it is a usable credential string, else a ConfigurationError naming it (never quoting it). */
export function credentialText(input: object, key: string, what: string): string {
  const value = (input as Record<string, unknown>)[key];
  if (typeof value !== 'string' || value === '') throw new ConfigurationError(`auth.${key} must be a non-empty string (${what})`);
  // A header or cookie value cannot carry these; a query value could, but a
  // credential with a line break is a paste error, not a credential.
  if (/[\r\n\0]/.test(value)) throw new ConfigurationError(`auth.${key} must not contain line breaks or NUL`);
  // Half a surrogate pair has no UTF-8 form: it would go out as U+FFFD, and could not be redacted from an echo.
  if (LONE_SURROGATE.test(value)) throw new ConfigurationError(`auth.${key} must be well-formed Unicode (it holds half a surrogate pair)`);
  return value;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// RFC 9110 §5.5 field-value: visible ASCII, space, tab and obs-text bytes; fetch refuses the rest.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

// RFC 7617 section 2.1: user-pass is UTF-8, base64-encoded; btoa takes one byte per char.
function basic(username: string, password: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${username}:${password}`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** What one scheme of a held credential puts on a request. */
interface Part {
  readonly where: 'header' | 'query' | 'cookie';
  readonly name: string;
  readonly value: string;
}

/** The `auth` fields a scheme is passed in. */
function inputsOf(rules: CredentialRules): string[] {
  if (rules.type === 'basic') return ['username', 'password'];
  return [rules.input ?? (rules.type === 'apiKey' ? 'apiKey' : 'accessToken')];
}

function partOf(rules: CredentialRules, input: object): Part {
  if (rules.type === 'basic') {
    const username = credentialText(input, 'username', 'the user id');
    if (username.includes(':')) throw new ConfigurationError('auth.username must not contain ":" (RFC 7617)');
    return { where: 'header', name: 'Authorization', value: basic(username, credentialText(input, 'password', 'the password')) };
  }
  const field = inputsOf(rules)[0]!;
  if (rules.type === 'bearer') {
    const token = credentialText(input, field, 'the token');
    if (!isHeaderToken(token))
      throw new ConfigurationError(`auth.${field} must be a token of visible ASCII characters only (RFC 6750 §2.1)`);
    return { where: 'header', name: rules.header, value: rules.scheme ? `${rules.scheme} ${token}` : token };
  }
  const key = credentialText(input, field, 'the API key');
  // RFC 6265 cookie-octets: no space, quote, comma, semicolon or backslash.
  if (rules.in === 'cookie' && /[\s",;\\]/.test(key))
    throw new ConfigurationError(`auth.${field} cannot be sent as a cookie: it contains a space, quote, comma, semicolon or backslash`);
  // Refused here rather than by fetch at the first call, where it would look like a network error and be retried.
  if (rules.in !== 'query' && !FIELD_VALUE.test(key))
    throw new ConfigurationError(`auth.${field} cannot be sent in a header: it holds control characters or characters beyond Latin-1`);
  return { where: rules.in, name: rules.name, value: rules.prefix ? `${rules.prefix} ${key}` : key };
}

/** How the user writes each alternative, for the error that lists them. */
export function writtenCredentials(credentials: HeldCredentials): string {
  return credentials.map((alternative) => `{ ${Object.values(alternative).flatMap(inputsOf).join(', ')} }`).join(', ');
}

/**
 * The Authenticator of the alternative `input` is written for (the one whose
 * fields it has, the one with most fields first), or undefined when it has
 * the fields of none.
 */
export function heldAuthenticator(credentials: HeldCredentials, input: object): Authenticator | undefined {
  let chosen: Readonly<Record<string, CredentialRules>> | undefined;
  let most = 0;
  for (const alternative of credentials) {
    const fields = Object.values(alternative).flatMap(inputsOf);
    // Own fields only: a field named like an Object.prototype member must be given, not inherited.
    if (fields.length > most && fields.every((field) => Object.hasOwn(input, field))) [chosen, most] = [alternative, fields.length];
  }
  if (!chosen) return undefined;
  const parts = new Map(Object.entries(chosen).map(([scheme, rules]) => [scheme, partOf(rules, input)]));
  const selected = new Map<string, Authenticator>();
  const held = sending([...parts.values()]);
  held.select = (security) => {
    const requirement = security.find((schemes) => schemes.length && schemes.every((scheme) => parts.has(scheme)));
    if (!requirement) return undefined;
    const key = requirement.join('\0');
    let authenticator = selected.get(key);
    if (!authenticator) selected.set(key, (authenticator = sending(requirement.map((scheme) => parts.get(scheme)!))));
    return authenticator;
  };
  return held;
}

/**
 * Sends `parts`, every one. The credential is fixed, so a 401 is the
 * caller's to handle (`handleUnauthorized` says no). The values live only in
 * this closure: the object prints and serializes as nothing.
 */
function sending(parts: readonly Part[]): Authenticator {
  const [first, ...rest] = parts as [Part, ...Part[]];
  const credential: Credential = {
    name: first.name,
    value: first.value,
    ...(rest.length ? { also: rest.map(({ name, value }) => ({ name, value })) } : {}),
  };
  const authorization = Promise.resolve(credential);
  return {
    getAuthorization: () => authorization,
    cachedAuthorization: () => credential,
    handleUnauthorized: async () => false,
    attach: (request, _credential, body) => parts.reduce((out, part) => withCredential(out, part, body), request),
  };
}

/** Builds the authenticator for a profile with no grant: an Authenticator of the user's own as it is, else the alternative `input` is written for. */
export function createCredentialAuthenticator(
  profile: CredentialProfile,
  input: CredentialInput | Readonly<Record<string, string | undefined>>,
  ctx: { baseUrl: string },
): Authenticator {
  assertSecureUrl(ctx.baseUrl);
  const refused = () => new ConfigurationError(`auth must be ${writtenCredentials(profile.credentials)} for this provider`);
  // `auth: process.env.KEY` is a string: never let a TypeError quote it.
  if (typeof input !== 'object' || input === null) throw refused();
  if (typeof (input as Partial<Authenticator>).getAuthorization === 'function') return input as Authenticator;
  const held = heldAuthenticator(profile.credentials, input);
  if (!held) throw refused();
  return held;
}

// The caller's own query parameter or cookie of the credential's name is replaced, never sent beside it.
function withCredential(request: OutgoingRequest, c: Part, body: BodyInit | null | undefined): OutgoingRequest {
  const where = c.where;
  if (where === 'header') {
    request.headers.set(c.name, c.value);
    return request;
  }
  if (where === 'cookie') {
    const others = (request.headers.get('cookie') ?? '').split(/;\s*/).filter((pair) => pair !== '' && pair.split('=')[0] !== c.name);
    request.headers.set('cookie', [...others, `${c.name}=${c.value}`].join('; '));
    return request;
  }
  const url = new URL(request.url);
  url.searchParams.set(c.name, c.value);
  return body === undefined
    ? new Request(url, request)
    : new Request(url, { method: request.method, headers: request.headers, body, signal: request.signal, redirect: request.redirect });
}
