// Held credentials (src/credentials.ts) called directly: which text each
// field may hold, how a part is written (Basic, a scheme, a prefix, a
// cookie, a query parameter), which alternative and which requirement are
// chosen, and what the Authenticator hands out. Each test pins behaviour a
// StrykerJS mutant of src/credentials.ts changed without any other test noticing.
import { thrownBy } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { createCredentialAuthenticator, credentialText, heldAuthenticator, writtenCredentials } from '../src/credentials.js';
import { ConfigurationError } from '../src/errors.js';
import type { Authenticator, OutgoingRequest } from '../src/lifecycle.js';
import type { CredentialProfile, CredentialRules, HeldCredentials } from '../src/profile.js';

const BASE = { baseUrl: 'https://api.example.test' };
const KEY: CredentialRules = { type: 'apiKey', in: 'header', name: 'X-Key' };
const QUERY: CredentialRules = { type: 'apiKey', in: 'query', name: 'key' };
const COOKIE: CredentialRules = { type: 'apiKey', in: 'cookie', name: 'session' };

/** The message of the ConfigurationError `make` throws. */
const refusal = (make: () => unknown): string => {
  const error = thrownBy(make);
  expect(error).toBeInstanceOf(ConfigurationError);
  return (error as Error).message;
};

const held = (credentials: HeldCredentials, input: object): Authenticator => {
  const authenticator = heldAuthenticator(credentials, input);
  if (!authenticator) throw new Error('no alternative chosen');
  return authenticator;
};

const request = (url = 'https://api.example.test/things?page=2', init: RequestInit = {}): OutgoingRequest =>
  new Request(url, { method: 'GET', redirect: 'manual', ...init });

describe('credentialText', () => {
  it('refuses what is not a non-empty string, by name', () => {
    for (const value of [undefined, 42, '', null])
      expect(refusal(() => credentialText({ apiKey: value }, 'apiKey', 'the API key'))).toBe(
        'auth.apiKey must be a non-empty string (the API key)',
      );
  });

  it('refuses each of CR, LF and NUL wherever it stands', () => {
    for (const value of ['a\rb', '\nab', 'ab\0'])
      expect(refusal(() => credentialText({ k: value }, 'k', 'x'))).toBe('auth.k must not contain line breaks or NUL');
  });

  it('refuses half a surrogate pair in each place, and takes whole pairs', () => {
    const message = 'auth.k must be well-formed Unicode (it holds half a surrogate pair)';
    for (const value of ['a\ud800', 'a\ud83dbc', '\udc00a', 'ab\ude00', '\ude00\ud83d'])
      expect(refusal(() => credentialText({ k: value }, 'k', 'x'))).toBe(message);
    for (const value of ['a\ud83d\ude00b', '\ud83d\ude00', 'plain']) expect(credentialText({ k: value }, 'k', 'x')).toBe(value);
  });
});

describe('the text a header part may hold', () => {
  const message = 'auth.apiKey cannot be sent in a header: it holds control characters or characters beyond Latin-1';
  it('takes visible ASCII, space, tab and Latin-1 obs-text, and refuses the rest wherever it stands', () => {
    for (const value of ['a b\tc~', '\u00e9t\u00e9\u00ff\u0080', '!']) expect(() => held([{ Key: KEY }], { apiKey: value })).not.toThrow();
    for (const value of ['\u0100abc', 'abc\u0100', 'a\u007fb', '\u0001abc', 'abc\u001f'])
      expect(refusal(() => held([{ Key: KEY }], { apiKey: value }))).toBe(message);
  });

  it('a cookie value may hold none of space, quote, comma, semicolon or backslash', () => {
    for (const value of ['a b', 'a\tb', 'a"b', 'a,b', 'a;b', 'a\\b'])
      expect(refusal(() => held([{ Cookie: COOKIE }], { apiKey: value }))).toBe(
        'auth.apiKey cannot be sent as a cookie: it contains a space, quote, comma, semicolon or backslash',
      );
    expect(() => held([{ Cookie: COOKIE }], { apiKey: 'abc-DEF_123' })).not.toThrow();
  });

  it('a query value may hold any well-formed text, and a header one may hold what a cookie may not', () => {
    expect(() => held([{ Query: QUERY }], { apiKey: '\u0100 ;,"\\' })).not.toThrow();
    expect(() => held([{ Key: KEY }], { apiKey: 'a b;c,"d"\\' })).not.toThrow();
  });
});

describe('how each part is written', () => {
  it('Basic: the UTF-8 bytes of user:password, base64; a colon in the user id is refused', () => {
    const credential = held([{ Basic: { type: 'basic' } }], { username: 'jos\u00e9', password: 'p\u00e4ss:w' }).cachedAuthorization?.();
    expect(credential).toStrictEqual({ name: 'Authorization', value: `Basic ${Buffer.from('jos\u00e9:p\u00e4ss:w').toString('base64')}` });
    expect(refusal(() => held([{ Basic: { type: 'basic' } }], { username: 'a:b', password: 'p' }))).toBe(
      'auth.username must not contain ":" (RFC 7617)',
    );
    expect(refusal(() => held([{ Basic: { type: 'basic' } }], { username: 'u', password: '' }))).toBe(
      'auth.password must be a non-empty string (the password)',
    );
    expect(refusal(() => held([{ Basic: { type: 'basic' } }], { username: '', password: 'p' }))).toBe(
      'auth.username must be a non-empty string (the user id)',
    );
  });

  it('bearer: the scheme and one space, none without a scheme; its field is accessToken unless named', () => {
    const bearer = (scheme: string, input?: string): CredentialRules => ({
      type: 'bearer',
      header: 'X-Auth',
      scheme,
      ...(input ? { input } : {}),
    });
    expect(held([{ T: bearer('Token') }], { accessToken: 'abc.DEF-1' }).cachedAuthorization?.()).toStrictEqual({
      name: 'X-Auth',
      value: 'Token abc.DEF-1',
    });
    expect(held([{ T: bearer('') }], { accessToken: 'abc.DEF-1' }).cachedAuthorization?.()).toStrictEqual({
      name: 'X-Auth',
      value: 'abc.DEF-1',
    });
    expect(held([{ T: bearer('Bearer', 'pat') }], { pat: 'abc' }).cachedAuthorization?.()?.value).toBe('Bearer abc');
    expect(refusal(() => held([{ T: bearer('Bearer') }], { accessToken: '' }))).toBe(
      'auth.accessToken must be a non-empty string (the token)',
    );
    expect(refusal(() => held([{ T: bearer('Bearer', 'pat') }], { pat: 'a b' }))).toBe(
      'auth.pat must be a token of visible ASCII characters only (RFC 6750 §2.1)',
    );
  });

  it('apiKey: the prefix and one space, none without one; its field is apiKey unless named', () => {
    expect(held([{ K: { ...KEY, prefix: 'Bot' } }], { apiKey: 'k1' }).cachedAuthorization?.()).toStrictEqual({
      name: 'X-Key',
      value: 'Bot k1',
    });
    expect(held([{ K: { ...KEY, prefix: '' } }], { apiKey: 'k1' }).cachedAuthorization?.()).toStrictEqual({ name: 'X-Key', value: 'k1' });
    expect(held([{ K: { ...KEY, input: 'token' } }], { token: 'k2' }).cachedAuthorization?.()?.value).toBe('k2');
  });

  it('writtenCredentials lists each alternative by its fields', () => {
    expect(
      writtenCredentials([
        { A: KEY, B: { ...QUERY, input: 'sig' } },
        { C: { type: 'basic' } },
        { D: { type: 'bearer', header: 'H', scheme: 'S' } },
      ]),
    ).toBe('{ apiKey, sig }, { username, password }, { accessToken }');
  });
});

describe('which alternative, which requirement', () => {
  it('of alternatives with as many fields, all given, the first wins', () => {
    const credentials: HeldCredentials = [{ A: { ...KEY, name: 'X-A', input: 'a' } }, { B: { ...KEY, name: 'X-B', input: 'b' } }];
    expect(held(credentials, { a: 'one', b: 'two' }).cachedAuthorization?.()?.name).toBe('X-A');
    expect(held(credentials, { b: 'two' }).cachedAuthorization?.()?.name).toBe('X-B');
    expect(heldAuthenticator(credentials, { c: 'three' })).toBeUndefined();
  });

  it('an empty requirement (auth optional) matches nothing; the first held requirement is chosen and kept', () => {
    const h = held([{ A: { ...KEY, name: 'X-A', input: 'a' }, B: { ...KEY, name: 'X-B', input: 'b' } }], { a: 'one', b: 'two' });
    expect(h.select?.([[]])).toBeUndefined();
    expect(h.select?.([['C'], ['A', 'C']])).toBeUndefined();
    const b = h.select?.([[], ['C'], ['B']]);
    expect(b?.cachedAuthorization?.()).toStrictEqual({ name: 'X-B', value: 'two' });
    expect(h.select?.([['B']])).toBe(b);
    const both = h.select?.([['A', 'B']]);
    expect(both?.cachedAuthorization?.()).toStrictEqual({ name: 'X-A', value: 'one', also: [{ name: 'X-B', value: 'two' }] });
    expect(h.select?.([['A', 'B']])).toBe(both);
  });

  it('requirements whose scheme names run together are told apart', () => {
    const rules = (name: string): CredentialRules => ({ ...KEY, name: `X-${name}`, input: name.toLowerCase() });
    const h = held([{ A: rules('A'), BC: rules('BC'), AB: rules('AB'), C: rules('C') }], { a: '1', bc: '2', ab: '3', c: '4' });
    expect(h.select?.([['A', 'BC']])?.cachedAuthorization?.()?.name).toBe('X-A');
    expect(h.select?.([['AB', 'C']])?.cachedAuthorization?.()?.name).toBe('X-AB');
  });

  it('hands out one credential, refuses to retry a 401, and sends every part', async () => {
    const h = held([{ K: KEY }], { apiKey: 'k1' });
    const credential = h.cachedAuthorization?.();
    expect(await h.getAuthorization()).toBe(credential);
    expect(await h.handleUnauthorized('k1')).toBe(false);
    const sent = h.attach?.(request(), credential!, undefined);
    expect(sent?.headers.get('x-key')).toBe('k1');
  });
});

describe('attach', () => {
  it("a cookie part replaces the caller's cookie of its name and keeps the others", () => {
    const h = held([{ C: COOKIE }], { apiKey: 'new' });
    const c = h.cachedAuthorization!()!;
    const withCookies = request(undefined, { headers: { cookie: 'a=1; session=old;b=2;  c=3' } });
    expect(h.attach!(withCookies, c, undefined).headers.get('cookie')).toBe('a=1; b=2; c=3; session=new');
    expect(h.attach!(request(), c, undefined).headers.get('cookie')).toBe('session=new');
    const lookalike = request(undefined, { headers: { cookie: 'sessions=1; session2=2' } });
    expect(h.attach!(lookalike, c, undefined).headers.get('cookie')).toBe('sessions=1; session2=2; session=new');
  });

  it('a query part replaces the parameter of its name; a rebuilt request keeps method, headers, redirect and takes the body given', async () => {
    const h = held([{ Q: QUERY }], { apiKey: 'k&1' });
    const c = h.cachedAuthorization!()!;
    const get = h.attach!(request('https://api.example.test/x?key=mine&page=2', { headers: { 'x-mine': 'yes' } }), c, undefined);
    expect(get.url).toBe('https://api.example.test/x?key=k%261&page=2');
    expect(get.headers.get('x-mine')).toBe('yes');
    expect(get.redirect).toBe('manual');
    const post = h.attach!(
      request('https://api.example.test/x', { method: 'POST', headers: { 'x-mine': 'yes' }, body: 'ignored' }),
      c,
      'sent',
    );
    expect(post.url).toBe('https://api.example.test/x?key=k%261');
    expect(post.method).toBe('POST');
    expect(post.headers.get('x-mine')).toBe('yes');
    expect(post.redirect).toBe('manual');
    expect(await (post as Request).text()).toBe('sent');
    // No body given (a one-shot stream, never replayed): the request's own goes along.
    const stream = h.attach!(request('https://api.example.test/x', { method: 'PUT', body: 'its own' }), c, undefined);
    expect(stream.method).toBe('PUT');
    expect(await (stream as Request).text()).toBe('its own');
  });
});

describe('createCredentialAuthenticator', () => {
  const profile: CredentialProfile = { credentials: [{ K: KEY }] };
  it("takes a user's own Authenticator as it is, and refuses input of no alternative or no object", () => {
    const own: Authenticator = { getAuthorization: async () => ({ name: 'X', value: 'v' }), handleUnauthorized: async () => false };
    expect(createCredentialAuthenticator(profile, own, BASE)).toBe(own);
    for (const input of ['k', null, { other: 'x' }, { getAuthorization: 'no' }])
      expect(refusal(() => createCredentialAuthenticator(profile, input as never, BASE))).toBe('auth must be { apiKey } for this provider');
    expect(createCredentialAuthenticator(profile, { apiKey: 'k' }, BASE).cachedAuthorization?.()).toStrictEqual({
      name: 'X-Key',
      value: 'k',
    });
  });

  it("a string's own properties (its length, its indexes) are no fields: `auth: process.env.KEY` is refused whole", () => {
    for (const input of ['length', '0'])
      expect(refusal(() => createCredentialAuthenticator({ credentials: [{ K: { ...KEY, input } }] }, 'sk_live_0123' as never, BASE))).toBe(
        `auth must be { ${input} } for this provider`,
      );
  });

  it('refuses a base URL of plain http to another host', () => {
    expect(() => createCredentialAuthenticator(profile, { apiKey: 'k' }, { baseUrl: 'http://api.example.test' })).toThrow();
  });
});
