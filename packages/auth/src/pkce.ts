import { base64url } from './base64url.js';
import { ConfigurationError } from './errors.js';

// WebCrypto only, so the same code runs in Node, browsers and edge runtimes.

function randomBase64url(byteLength: number): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(byteLength)));
}

// RFC 7636 §4.1: 43-128 characters from the unreserved set.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A fresh RFC 7636 code verifier: 32 random bytes, base64url, 43 characters. */
export function generateCodeVerifier(): string {
  return randomBase64url(32);
}

/** The S256 code challenge of `verifier` (RFC 7636 §4.2). `plain` is never used. */
export async function pkceChallenge(verifier: string): Promise<string> {
  assertCodeVerifier(verifier);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A fresh `state`: 256 random bits, base64url (RFC 9700 §4.7.1 asks for at least 128). */
export function generateState(): string {
  return randomBase64url(32);
}

/** Minimum length of a caller-chosen state: 22 base64url characters carry 128 bits. */
export const MIN_STATE_LENGTH = 22;

/** Throws ConfigurationError unless `verifier` is a valid RFC 7636 code verifier. */
export function assertCodeVerifier(verifier: string): void {
  if (!VERIFIER.test(verifier))
    throw new ConfigurationError('a PKCE code verifier is 43-128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
}

/** Compares in time that depends only on the lengths, so a forged state cannot be guessed byte by byte. */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.length !== right.length) return false;
  let diff = 0;
  // Stryker disable next-line EqualityOperator: one step past the end XORs undefined with undefined, which is 0
  for (let i = 0; i < left.length; i++) diff |= left[i]! ^ right[i]!;
  return diff === 0;
}
