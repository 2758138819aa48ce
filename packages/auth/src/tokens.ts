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

/** Copies `tokens` into a fresh object that inspects redacted, checking the shape of data that may come from a store or the user. */
export function toTokens(tokens: Tokens): Tokens {
  if (typeof tokens?.accessToken !== 'string' || tokens.accessToken === '') throw new ConfigurationError('tokens need a non-empty accessToken string');
  const out: Tokens = { accessToken: tokens.accessToken, tokenType: tokens.tokenType, raw: tokens.raw ?? {} };
  if (tokens.refreshToken !== undefined) out.refreshToken = tokens.refreshToken;
  if (tokens.expiresAt !== undefined) out.expiresAt = tokens.expiresAt;
  if (tokens.issuedAt !== undefined) out.issuedAt = tokens.issuedAt;
  if (tokens.scope !== undefined) out.scope = [...tokens.scope];
  return withRedactedInspect(out, () => ({
    ...out,
    accessToken: REDACTED,
    ...(out.refreshToken === undefined ? {} : { refreshToken: REDACTED }),
    raw: redact(out.raw),
  }));
}
