// Credentials the user already holds (an API key, a username and password, a
// long-lived token): nothing to obtain or renew, only to put on the request
// where the spec's security scheme says.
import type { StaticTokenInput } from './authenticator.js';
import { ConfigurationError } from './errors.js';
import type { Authenticator, OutgoingRequest } from './lifecycle.js';
import type { CredentialProfile } from './profile.js';
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
  return value;
}

// RFC 7617 section 2.1: user-pass is UTF-8, base64-encoded; btoa takes one byte per char.
function basic(username: string, password: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${username}:${password}`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/**
 * Builds the authenticator for a profile with no grant. The credential is
 * fixed, so a 401 is the caller's to handle (`handleUnauthorized` says no).
 */
export function createCredentialAuthenticator(profile: CredentialProfile, input: CredentialInput, ctx: { baseUrl: string }): Authenticator {
  assertSecureUrl(ctx.baseUrl);
  if (typeof (input as Partial<Authenticator>).getAuthorization === 'function') return input as Authenticator;
  const rules = profile.credential;
  let applied: { name: string; value: string };
  if (rules.type === 'apiKey') {
    if (!('apiKey' in input)) throw new ConfigurationError('auth must be { apiKey } for this provider');
    const key = credentialText(input, 'apiKey', 'the API key');
    // RFC 6265 cookie-octets: no space, quote, comma, semicolon or backslash.
    if (rules.in === 'cookie' && /[\s",;\\]/.test(key))
      throw new ConfigurationError('auth.apiKey cannot be sent as a cookie: it contains a space, quote, comma, semicolon or backslash');
    applied = { name: rules.name, value: key };
  } else if (rules.type === 'basic') {
    if (!('username' in input && 'password' in input))
      throw new ConfigurationError('auth must be { username, password } for this provider');
    const username = credentialText(input, 'username', 'the user id');
    if (username.includes(':')) throw new ConfigurationError('auth.username must not contain ":" (RFC 7617)');
    applied = { name: 'Authorization', value: basic(username, credentialText(input, 'password', 'the password')) };
  } else {
    if (!('accessToken' in input)) throw new ConfigurationError('auth must be { accessToken } for this provider');
    const token = credentialText(input, 'accessToken', 'the token');
    applied = { name: rules.header, value: rules.scheme ? `${rules.scheme} ${token}` : token };
  }
  const authorization = Promise.resolve(applied);
  const where = rules.type === 'apiKey' ? rules.in : 'header';
  // The value lives only in this closure: the object prints and serializes as nothing.
  return {
    getAuthorization: () => authorization,
    cachedAuthorization: () => applied,
    handleUnauthorized: async () => false,
    attach: (request, credential, body) => withCredential(request, credential, where, body),
  };
}

// The caller's own query parameter or cookie of the credential's name is replaced, never sent beside it.
function withCredential(
  request: OutgoingRequest,
  c: { name: string; value: string },
  where: string,
  body: BodyInit | null | undefined,
): OutgoingRequest {
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
