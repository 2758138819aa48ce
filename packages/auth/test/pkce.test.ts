// RFC 7636 (S256 only, verifier 43-128 unreserved characters) and state
// (≥ 128 random bits, constant-time comparison, mismatch refused).

import { loadProfile } from '@portico/testing';
import { describe, expect, it, vi } from 'vitest';
import {
  type AuthProfile,
  ConfigurationError,
  createOAuthFlow,
  generateCodeVerifier,
  generateState,
  pkceChallenge,
  StateMismatchError,
} from '../src/index.js';
import { timingSafeEqual } from '../src/pkce.js';

const fdx: AuthProfile = loadProfile('fdx').profile;
const options = { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb', baseUrl: 'https://as.example' };

describe('PKCE (RFC 7636)', () => {
  it('Appendix B: dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk → E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', async () => {
    await expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('generates 43-character verifiers from the unreserved set, never twice the same', () => {
    const verifiers = Array.from({ length: 200 }, generateCodeVerifier);
    for (const v of verifiers) expect(v).toMatch(/^[A-Za-z0-9\-._~]{43}$/);
    expect(new Set(verifiers).size).toBe(200);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a character outside the unreserved set', `${'a'.repeat(42)}+`],
  ])('refuses a verifier of %s', async (_name, verifier) => {
    const error = await pkceChallenge(verifier).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    // The message says what a verifier must be, and never quotes the one given.
    expect((error as Error).message).toMatch(/43-128 characters .*RFC 7636/);
    expect((error as Error).message).not.toContain(verifier);
  });

  it('accepts verifiers of exactly 43 and 128 characters', async () => {
    await expect(pkceChallenge('a'.repeat(43))).resolves.toHaveLength(43);
    await expect(pkceChallenge('~'.repeat(128))).resolves.toHaveLength(43);
  });

  it('refuses a profile that asks for the plain method, or uses PKCE without a {codeChallenge}', () => {
    const plain = structuredClone(fdx);
    plain.authorization!.parameters.code_challenge_method = 'plain';
    expect(() => createOAuthFlow(plain, options)).toThrow(/S256/);
    const missing = structuredClone(fdx);
    delete missing.authorization!.parameters.code_challenge;
    expect(() => createOAuthFlow(missing, options)).toThrow(ConfigurationError);
  });

  it("refuses to build a URL when the provider's minimum challenge length exceeds what S256 gives", async () => {
    const strict = structuredClone(fdx);
    strict.authorization!.codeChallengeMinLength = 50;
    await expect(createOAuthFlow(strict, options).authorizationUrl({ scope: 'accounts' })).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('a fresh verifier per authorization request, and its S256 challenge in the URL', async () => {
    const flow = createOAuthFlow(fdx, options);
    const [a, b] = await Promise.all([flow.authorizationUrl({ scope: 'accounts' }), flow.authorizationUrl({ scope: 'accounts' })]);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
    expect(new URL(a.url).searchParams.get('code_challenge')).toBe(await pkceChallenge(a.codeVerifier!));
  });

  it('exchangeCode insists on the code verifier when the provider uses PKCE', async () => {
    const flow = createOAuthFlow(fdx, options);
    const { state } = await flow.authorizationUrl({ scope: 'accounts' });
    await expect(flow.exchangeCode({ code: 'x', state }, { state })).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('state (RFC 9700 §4.7)', () => {
  it('carries at least 128 random bits and is never repeated', () => {
    const states = Array.from({ length: 1000 }, generateState);
    for (const s of states) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(states).size).toBe(1000);
  });

  it('refuses a caller-chosen state shorter than 128 bits', async () => {
    await expect(createOAuthFlow(fdx, options).authorizationUrl({ scope: 'accounts', state: 'abc' })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });

  it('uses a caller-chosen state of sufficient length as given', async () => {
    const state = 'x'.repeat(22);
    const request = await createOAuthFlow(fdx, options).authorizationUrl({ scope: 'accounts', state });
    expect(request.state).toBe(state);
    expect(new URL(request.url).searchParams.get('state')).toBe(state);
  });

  it.each([
    ['a different state', (s: string) => ({ code: 'c', state: `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}` })],
    ['a longer state', (s: string) => ({ code: 'c', state: `${s}x` })],
    ['an empty state', () => ({ code: 'c', state: '' })],
    ['no state at all', () => ({ code: 'c' })],
  ])('refuses a callback with %s before any token request', async (_name, callback) => {
    const fetchSpy = vi.fn<typeof fetch>();
    const flow = createOAuthFlow(fdx, { ...options, fetch: fetchSpy });
    const request = await flow.authorizationUrl({ scope: 'accounts' });
    await expect(
      flow.exchangeCode(callback(request.state), { state: request.state, codeVerifier: request.codeVerifier! }),
    ).rejects.toBeInstanceOf(StateMismatchError);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('compares with a constant-time equality that is still exact', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeEqual('é', 'e\u0301')).toBe(false);
  });
});
