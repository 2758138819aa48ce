// Secrets must not reach logs. Two layers: values we know are secret (the
// client secret, a refresh token we just sent, ...) are cut out of any text
// that came back from a server, and objects are shown with sensitive keys
// replaced, whatever their values.

/** The symbol Node's `util.inspect` looks up; a plain registry symbol so this file runs in browsers too. */
export const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom');

export const REDACTED = '[redacted]';

// Matched against the key lowercased with non-letters removed, so
// access_token, accessToken and Access-Token are all one key.
const SENSITIVE_KEY = /(token|secret|password|verifier|authorization|cookie|accesscode|apikey|assertion)$/;

/** True for keys whose values are credentials (access_token, clientSecret, authorization, set-cookie, ...). */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key.toLowerCase().replace(/[^a-z]/g, ''));
}

/** A deep copy of `value` with the values of sensitive keys replaced by `'[redacted]'`. */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet());
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) && item !== undefined && item !== null ? REDACTED : redactValue(item, seen);
  }
  return out;
}

// Servers echo what they received, often encoded: cut every spelling a
// secret can take on the wire.
export function spellings(secret: string): string[] {
  const form = new URLSearchParams({ v: secret }).toString().slice(2);
  return [secret, percentEncoded(secret) ?? form, form, JSON.stringify(secret).slice(1, -1)];
}

// encodeURIComponent throws URIError on half a surrogate pair: such a value has no percent-encoding to find.
function percentEncoded(secret: string): string | undefined {
  try {
    return encodeURIComponent(secret);
  } catch {
    return undefined;
  }
}

// Shorter values are not credentials worth hiding, and cutting every
// occurrence of, say, "s" would shred the message.
const MIN_SECRET_LENGTH = 8;

/** `text` with every occurrence of each secret (raw, percent-, form- or JSON-encoded) replaced by `'[redacted]'`. Values under 8 characters are left alone. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(spellings))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const needle of needles) out = out.split(needle).join(REDACTED);
  return out;
}

type InspectFn = (value: unknown, options?: object) => string;

/**
 * Makes `util.inspect(target)` print `view()` instead of the target. The
 * property is non-enumerable, so spreading or `JSON.stringify` still see the
 * plain data.
 */
export function withRedactedInspect<T extends object>(target: T, view: () => unknown): T {
  Object.defineProperty(target, inspectCustom, {
    value: (_depth: number, options: object, inspect?: InspectFn) => (inspect ? inspect(view(), options) : view()),
    enumerable: false,
    configurable: true,
  });
  return target;
}
