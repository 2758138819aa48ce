import { ConfigurationError, InsecureUrlError } from './errors.js';

// RFC 9700 §4.1 / RFC 8252 §7.3: plain http is only acceptable when the
// traffic never leaves the machine.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(url: string | URL): URL {
  if (url instanceof URL) return new URL(url.href);
  try {
    return new URL(url);
  } catch {
    throw new ConfigurationError('not an absolute URL');
  }
}

/** Parses `url` and throws InsecureUrlError unless it is https, or http to a loopback host. */
export function assertSecureUrl(url: string | URL): URL {
  const parsed = parse(url);
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)) return parsed;
  throw new InsecureUrlError(`${parsed.protocol}//${parsed.host}`);
}

/**
 * Checks a redirect URI as it will be read, not as it is written: the URL
 * parser drops leading spaces and tabs or newlines anywhere, so
 * ' http://evil.com/cb' or 'ht\ttp://evil.com/cb' would pass a check on
 * the text and reach the provider as http://evil.com/cb. Input that does
 * not read back as itself is refused; then plain http is only for loopback
 * (RFC 8252 §7.3), and https or a native app's own scheme (§7.1) pass.
 */
export function assertRedirectUri(uri: string): URL {
  if (typeof uri !== 'string') throw new ConfigurationError('redirectUri must be a string');
  const parsed = parse(uri);
  if (parsed.href !== uri)
    throw new ConfigurationError(
      `redirectUri must be written as the URL it is read as (${JSON.stringify(parsed.href)}): it is sent as given and compared as a string`,
    );
  if (parsed.protocol === 'http:') assertSecureUrl(parsed);
  return parsed;
}

/**
 * A profile URL is absolute https, or a path resolved against a base: the
 * path is appended to the base's own path, so `/auth/token` on
 * `https://api.example.com/v2` is `https://api.example.com/v2/auth/token`
 * (plain URL resolution would drop the `/v2`).
 */
export function resolveProfileUrl(profileUrl: string, base: string | undefined, what: string): URL {
  if (!profileUrl.startsWith('/')) return assertSecureUrl(profileUrl);
  if (base === undefined) throw new ConfigurationError(`the ${what} URL ${profileUrl} is relative: pass the base URL it is relative to`);
  const resolved = assertSecureUrl(base);
  resolved.pathname = resolved.pathname.replace(/\/+$/, '') + profileUrl;
  resolved.search = '';
  resolved.hash = '';
  return resolved;
}
