import { ConfigurationError } from './errors.js';
import { REDACTED, redact, withRedactedInspect } from './redact.js';

/** A token set. Plain data: persist it with JSON.stringify; `util.inspect` shows it redacted. */
export interface Tokens {
  accessToken: string;
  /** As the server spelled it (e.g. `bearer`); the wire scheme comes from the profile's `apply`. */
  tokenType: string;
  refreshToken?: string;
  /** Epoch milliseconds; absent when the expiry is unknown or the token never expires. */
  expiresAt?: number;
  /** Epoch milliseconds when the access token was obtained; stored with it so every instance sharing a store renews at the same point. */
  issuedAt?: number;
  scope?: string[];
  /** The whole token response body, provider extras included (e.g. `account_id`). */
  raw: Record<string, unknown>;
}

// RFC 6750 §2.1 b64token, widened to every visible ASCII character (some
// providers' tokens carry others): what a header carries as it is. A CR, LF
// or non-ASCII character would be refused by Headers with an error quoting it.
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

/** True when `value` can be sent as an access token in a header. */
export function isHeaderToken(value: unknown): value is string {
  return typeof value === 'string' && HEADER_TOKEN.test(value);
}

/** Copies `tokens` into a fresh object that inspects redacted, checking the shape of data that may come from a store or the user. */
export function toTokens(tokens: Tokens): Tokens {
  if (typeof tokens?.accessToken !== 'string' || tokens.accessToken === '')
    throw new ConfigurationError('tokens need a non-empty accessToken string');
  if (!isHeaderToken(tokens.accessToken))
    throw new ConfigurationError('tokens need an accessToken of visible ASCII characters only (RFC 6750 §2.1), which a header can carry');
  const { tokenType, refreshToken, issuedAt, scope, raw } = tokens as Partial<Record<keyof Tokens, unknown>>;
  // A store or a file may hold anything: each field is what the code that reads it expects, or a typed error.
  if (typeof tokenType !== 'string') throw new ConfigurationError('tokens.tokenType must be a string');
  if (refreshToken !== undefined && typeof refreshToken !== 'string') throw new ConfigurationError('tokens.refreshToken must be a string');
  if (issuedAt !== undefined && !(typeof issuedAt === 'number' && Number.isFinite(issuedAt)))
    throw new ConfigurationError('tokens.issuedAt must be a finite number of epoch milliseconds');
  if (scope !== undefined && !(Array.isArray(scope) && scope.every((s) => typeof s === 'string')))
    throw new ConfigurationError('tokens.scope must be an array of strings');
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw)))
    throw new ConfigurationError('tokens.raw must be an object');
  const out: Tokens = { accessToken: tokens.accessToken, tokenType, raw: (raw as Record<string, unknown> | undefined) ?? {} };
  if (refreshToken !== undefined) out.refreshToken = refreshToken;
  // null is how JSON stored an Infinity (a token that never expires) before lifetimes were clamped.
  const expiresAt = tokens.expiresAt as unknown;
  if (typeof expiresAt === 'number' && Number.isFinite(expiresAt)) out.expiresAt = expiresAt;
  else if (expiresAt !== undefined && expiresAt !== null && expiresAt !== Infinity)
    throw new ConfigurationError('tokens.expiresAt must be a finite number of epoch milliseconds');
  if (issuedAt !== undefined) out.issuedAt = issuedAt;
  if (scope !== undefined) out.scope = [...scope];
  return withRedactedInspect(out, () => ({
    ...out,
    accessToken: REDACTED,
    ...(out.refreshToken === undefined ? {} : { refreshToken: REDACTED }),
    raw: redact(out.raw),
  }));
}
