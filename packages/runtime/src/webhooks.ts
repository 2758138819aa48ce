// Webhook signature verification as the spec declares it
// (`x-portico-webhook-signature`): parse the header, check the timestamp is
// fresh, compare the HMAC in constant time, then hand back the typed event.
import { ConfigurationError, PorticoError } from '@portico/auth';

export interface WebhookSignature {
  readonly header: string;
  /** How the header splits into its parts, e.g. `t=<time>;s=<hex>`. */
  readonly separator: string;
  readonly timestampKey: string;
  readonly signatureKey: string;
  /** What is signed: `{timestamp}` and `{body}` stand for the header's timestamp and the body's bytes. */
  readonly signedPayload: string;
  readonly algorithm: 'HMAC-SHA256';
  readonly encoding: 'hex';
  readonly timestampFormat: 'iso8601' | 'unix';
  readonly toleranceSec: number;
}

export type WebhookFailure = 'missing_header' | 'malformed_header' | 'stale_timestamp' | 'signature_mismatch' | 'invalid_payload';

export class WebhookVerificationError extends PorticoError {
  static override readonly errorName = 'WebhookVerificationError';
  readonly reason: WebhookFailure;
  constructor(reason: WebhookFailure, message: string) {
    super('webhook_verification_failed', `Webhook rejected: ${message}`);
    this.reason = reason;
  }
}

export interface VerifyOptions {
  toleranceSec?: number;
  /** Current time in ms, for tests. */
  now?: number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/** Every event a provider delivers: the JSON bodies of openapi-typescript's `webhooks`. */
export type WebhookEvents<Webhooks> = {
  [Name in keyof Webhooks]: Webhooks[Name] extends { post: { requestBody?: { content: { 'application/json': infer Event } } } }
    ? Event
    : never;
}[keyof Webhooks];

/**
 * Checks a webhook delivery's signature (in constant time) and timestamp, and
 * returns the typed event. Pass the body exactly as received, before any JSON
 * parsing. Throws WebhookVerificationError (`reason` says why).
 */
export type VerifyWebhook<Event> = (
  rawBody: string | Uint8Array,
  headers: HeaderBag,
  secret: string,
  options?: VerifyOptions,
) => Promise<Event>;

/** A provider's `verifyWebhook`, bound to its spec's signature rules (`x-portico-webhook-signature`). */
export function defineVerifyWebhook<Event>(rules: WebhookSignature): VerifyWebhook<Event> {
  return (rawBody, headers, secret, options) => verifyWebhookSignature<Event>(rules, rawBody, headers, secret, options);
}

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Verifies a webhook delivery and returns its parsed body. `rawBody` must be the bytes as received. */
async function verifyWebhookSignature<Event>(
  rules: WebhookSignature,
  rawBody: string | Uint8Array,
  headers: HeaderBag,
  secret: string,
  options: VerifyOptions = {},
): Promise<Event> {
  if (typeof secret !== 'string' || secret === '')
    throw new ConfigurationError('verifying a webhook needs the signing secret (a non-empty string)');
  // NaN (an unset environment variable through Number()) compares false with
  // everything, and would let any timestamp through: only a real bound will do.
  const toleranceSec = options.toleranceSec ?? rules.toleranceSec;
  if (!(Number.isFinite(toleranceSec) && toleranceSec >= 0))
    throw new ConfigurationError('toleranceSec must be a finite number of seconds, 0 or more');
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now)) throw new ConfigurationError('now must be a finite time in ms since the epoch');
  const value = header(headers, rules.header.toLowerCase());
  if (!value) throw new WebhookVerificationError('missing_header', `no ${rules.header} header`);
  const parts = new Map<string, string>();
  for (const part of value.split(rules.separator)) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const stamp = parts.get(rules.timestampKey);
  // Stryker disable next-line StringLiteral: its stand-in (17 characters, not whole bytes) is refused as malformed, as '' is
  const signature = hexToBytes(parts.get(rules.signatureKey) ?? '');
  const time = stamp === undefined ? Number.NaN : rules.timestampFormat === 'unix' ? Number(stamp) * 1000 : Date.parse(stamp);
  if (!stamp || !signature || signature.length === 0 || Number.isNaN(time)) {
    throw new WebhookVerificationError(
      'malformed_header',
      `${rules.header} is not of the form ${rules.timestampKey}=<time>${rules.separator}${rules.signatureKey}=<hex>`,
    );
  }
  const tolerance = toleranceSec * 1000;
  if (Math.abs(now - time) > tolerance) {
    throw new WebhookVerificationError('stale_timestamp', `the signature's timestamp is outside the ${tolerance / 1000} s tolerance`);
  }
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new WebhookVerificationError('invalid_payload', 'pass the body as received (a string or bytes), before any JSON parsing');
  }
  const encoder = new TextEncoder();
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  // WebCrypto's verify compares in constant time, and only a whole HMAC of the right length matches.
  // Stryker disable next-line BooleanLiteral: the key never leaves this function, so whether it could be exported is unobservable
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  if (!(await crypto.subtle.verify('HMAC', key, signature, signedBytes(rules.signedPayload, stamp, body))))
    throw new WebhookVerificationError('signature_mismatch', 'the signature does not match the body and secret');
  try {
    return JSON.parse(UTF8.decode(body)) as Event;
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'the body is not JSON in UTF-8');
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

// The signed payload is the template with its placeholders filled by bytes:
// the body is hashed exactly as received, never decoded and re-encoded, and
// nothing in it is read as a replacement pattern.
function signedBytes(template: string, stamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const parts = template
    .split(/(\{timestamp\}|\{body\})/)
    .map((part) => (part === '{body}' ? body : encoder.encode(part === '{timestamp}' ? stamp : part)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
