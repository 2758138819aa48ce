// The sealing of stored token sets on its own, without Redis: which keys are
// accepted, which key seals and which open, the GCM sizes, what a sealed value
// is bound to, the formats read, and the typed error garbage gets.
import { createCipheriv, createHash } from 'node:crypto';
import { ConfigurationError, type Tokens } from '@portico/auth';
import { thrownBy } from '@portico/testing';
import { describe, expect, it, vi } from 'vitest';
import { createSealer } from '../src/crypto.js';
import { TokenDecryptionError } from '../src/errors.js';

// A switch to make toTokens fail the way a bug in it would (no ConfigurationError), for one test.
const failure = vi.hoisted(() => ({ error: undefined as Error | undefined }));
vi.mock('@portico/auth/internal', async (importOriginal) => {
  const original = await importOriginal<typeof import('@portico/auth/internal')>();
  return {
    ...original,
    toTokens: (tokens: Tokens) => {
      if (failure.error) throw failure.error;
      return original.toTokens(tokens);
    },
  };
});

/** A fixed 32-byte key, its base64 and the key id values name it by. */
function key(fill: number) {
  const bytes = Buffer.alloc(32, fill);
  return { bytes, text: bytes.toString('base64'), id: createHash('sha256').update(bytes).digest('hex').slice(0, 12) };
}
const A = key(0xa1);
const B = key(0xb2);

const STORAGE_KEY = 'portico:{alice}:tokens';
const TOKENS: Tokens = {
  accessToken: 'at-secret-1',
  tokenType: 'Bearer',
  refreshToken: 'rt-secret-1',
  expiresAt: 1_700_000_000_000,
  scope: ['read', 'write'],
  raw: { name: 'Zoë ✓ 日本' },
};

/** A value sealed by hand, as this or the previous release wrote it, or with other sizes or fields. */
function handSealed(
  options: {
    key?: ReturnType<typeof key>;
    format?: unknown;
    aad?: string;
    iv?: Buffer;
    tagBytes?: number;
    plaintext?: string;
    fields?: Record<string, unknown>;
  } = {},
): string {
  const k = options.key ?? A;
  const iv = options.iv ?? Buffer.alloc(12, 7);
  const cipher = createCipheriv('aes-256-gcm', k.bytes, iv, { authTagLength: options.tagBytes ?? 16 });
  cipher.setAAD(Buffer.from(options.aad ?? JSON.stringify([STORAGE_KEY, 3])));
  const data = Buffer.concat([cipher.update(options.plaintext ?? JSON.stringify(TOKENS), 'utf8'), cipher.final()]);
  return JSON.stringify({
    f: options.format ?? 2,
    k: k.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
    ...options.fields,
  });
}

/** The TokenDecryptionError `fn` throws, checked to name neither token. */
function decryptionError(fn: () => unknown): TokenDecryptionError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(TokenDecryptionError);
  const { message } = error as TokenDecryptionError;
  expect(message).not.toContain('secret');
  expect(error).toMatchObject({ name: 'TokenDecryptionError', code: 'token_decryption_failed' });
  return error as TokenDecryptionError;
}

const NOT_DECRYPTED = 'the stored tokens do not decrypt: altered, put back from an older version, or sealed for another key';

describe('encryptionKey: the base64 of exactly 32 bytes', () => {
  it('a canonical key, with or without its padding, with extra padding or surrounding whitespace (a file, `openssl rand` output) is the same key', () => {
    const sealed = createSealer(A.text).seal(STORAGE_KEY, 3, TOKENS);
    expect(JSON.parse(sealed)).toMatchObject({ f: 2, k: A.id });
    const bare = A.text.replace(/=+$/, '');
    for (const spelling of [A.text, bare, `${bare}==`, `${bare}===`, `${A.text}\n`, `  ${A.text}\r\n`, `\t${bare}=== `]) {
      expect(createSealer(spelling).open(STORAGE_KEY, 3, sealed), JSON.stringify(spelling)).toEqual({ tokens: TOKENS });
      expect(JSON.parse(createSealer(spelling).seal(STORAGE_KEY, 3, TOKENS)).k).toBe(A.id);
    }
  });

  it('anything else is a ConfigurationError naming which key (by its place, never its value)', () => {
    const bare = A.text.replace(/=+$/, '');
    const bad = [
      'c2hvcnQ=', // 5 bytes
      key(1).bytes.subarray(0, 31).toString('base64'),
      Buffer.alloc(33, 1).toString('base64'),
      '',
      '   ',
      `${bare.slice(0, 42)}B`, // the last character's spare bits set: not what encoding any 32 bytes gives
      `${bare.slice(0, 20)} ${bare.slice(20)}`, // decodes to the 32 bytes, but is not their base64
      `${bare}=x`,
      `${bare}=${bare.slice(0, 4)}`,
      `=${bare}`,
      A.bytes.toString('hex'),
      key(0xfb).bytes.toString('base64url'), // `-_…`: decodes to the 32 bytes, but is base64url
    ];
    for (const text of bad) {
      const error = thrownBy(() => createSealer(text));
      expect(error, JSON.stringify(text)).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe('encryptionKey must be the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)');
    }
    for (const [list, index] of [
      [[A.text, 'c2hvcnQ='], 1],
      [[A.text, B.text, ''], 2],
      [['c2hvcnQ=', A.text], 0],
    ] as const) {
      const error = thrownBy(() => createSealer(list));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(
        `encryptionKey${index === 0 ? '' : `[${index}]`} must be the base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    expect((thrownBy(() => createSealer([A.text, 'c2hvcnQ='])) as Error).message).toMatch(/^encryptionKey\[1\] must be/);
    expect((thrownBy(() => createSealer(['c2hvcnQ='])) as Error).message).toMatch(/^encryptionKey must be/);
  });

  it('a key that is no string (an unset environment variable, a Buffer) is a ConfigurationError too, not a TypeError', () => {
    for (const value of [undefined, null, 5, A.bytes, { toString: () => A.text }]) {
      const error = thrownBy(() => createSealer([A.text, value as unknown as string]));
      expect(error, String(value)).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/^encryptionKey\[1\] must be the base64 of 32 random bytes/);
    }
    expect(thrownBy(() => createSealer(A.bytes as unknown as string))).toBeInstanceOf(ConfigurationError);
  });

  it('an empty list is a ConfigurationError, not plaintext', () => {
    const error = thrownBy(() => createSealer([]));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe('encryptionKey is an empty list');
  });
});

describe('which key seals and which open', () => {
  it('the first key seals, any key of the list opens, and a value sealed with a key not in the list names that key’s id only', () => {
    const oldOnly = createSealer(A.text);
    const rolling = createSealer([B.text, A.text]);
    const fromOld = oldOnly.seal(STORAGE_KEY, 3, TOKENS);
    const fromRolling = rolling.seal(STORAGE_KEY, 3, TOKENS);
    expect(JSON.parse(fromRolling).k).toBe(B.id);
    expect(rolling.open(STORAGE_KEY, 3, fromOld)).toEqual({ tokens: TOKENS });
    expect(rolling.open(STORAGE_KEY, 3, fromRolling)).toEqual({ tokens: TOKENS });
    expect(createSealer([A.text, B.text]).open(STORAGE_KEY, 3, fromRolling)).toEqual({ tokens: TOKENS });

    const error = decryptionError(() => oldOnly.open(STORAGE_KEY, 3, fromRolling));
    expect(error.message).toBe(`the stored tokens were encrypted with key id ${B.id}, which is not in encryptionKey`);
    expect(error.message).not.toContain(B.text);
  });

  it('a value naming one key’s id but sealed with another does not open', () => {
    const forged = JSON.stringify({ ...JSON.parse(createSealer(B.text).seal(STORAGE_KEY, 3, TOKENS)), k: A.id });
    expect(decryptionError(() => createSealer([A.text, B.text]).open(STORAGE_KEY, 3, forged)).message).toBe(NOT_DECRYPTED);
  });

  it('a sealed value where no key is set is refused, and plaintext where a key is set is refused', () => {
    const sealed = createSealer(A.text).seal(STORAGE_KEY, 3, TOKENS);
    expect(decryptionError(() => createSealer(undefined).open(STORAGE_KEY, 3, sealed)).message).toBe(
      'the stored tokens are encrypted, but no encryptionKey is set',
    );
    const plain = createSealer(undefined).seal(STORAGE_KEY, 3, TOKENS);
    expect(JSON.parse(plain)).toEqual({ f: 1, tokens: TOKENS });
    expect(createSealer(undefined).open(STORAGE_KEY, 3, plain)).toEqual({ tokens: TOKENS });
    expect(decryptionError(() => createSealer(A.text).open(STORAGE_KEY, 3, plain)).message).toBe(
      'the stored tokens are not encrypted, but an encryptionKey is set',
    );
  });
});

describe('the seal: AES-256-GCM with a 12-byte IV and a 16-byte tag, bound to the Redis key and version', () => {
  it('round-trips any token set, non-ASCII included, in format 2; a hand-sealed value of either format opens', () => {
    const sealer = createSealer(A.text);
    const value = sealer.seal(STORAGE_KEY, 3, TOKENS);
    const parsed = JSON.parse(value);
    expect(Object.keys(parsed).sort()).toEqual(['data', 'f', 'iv', 'k', 'tag']);
    expect(Buffer.from(parsed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(parsed.tag, 'base64')).toHaveLength(16);
    expect(value).not.toContain('secret');
    expect(sealer.open(STORAGE_KEY, 3, value)).toEqual({ tokens: TOKENS });
    expect(sealer.open(STORAGE_KEY, 3, handSealed())).toEqual({ tokens: TOKENS });
    // The previous release's format: bound to the Redis key only.
    expect(sealer.open(STORAGE_KEY, 3, handSealed({ format: 1, aad: STORAGE_KEY }))).toEqual({ tokens: TOKENS });
    expect(sealer.open(STORAGE_KEY, 9, handSealed({ format: 1, aad: STORAGE_KEY }))).toEqual({ tokens: TOKENS });
  });

  it('another Redis key, another version, or a format relabelled does not open', () => {
    const sealer = createSealer(A.text);
    const value = sealer.seal(STORAGE_KEY, 3, TOKENS);
    for (const [storageKey, version, v] of [
      ['portico:{mallory}:tokens', 3, value],
      [STORAGE_KEY, 2, value],
      [STORAGE_KEY, 4, value],
      [STORAGE_KEY, 3, JSON.stringify({ ...JSON.parse(value), f: 1 })],
      ['portico:{mallory}:tokens', 3, handSealed({ format: 1, aad: STORAGE_KEY })],
      [STORAGE_KEY, 3, handSealed({ format: 2, aad: STORAGE_KEY })],
    ] as const) {
      expect(decryptionError(() => sealer.open(storageKey, version, v)).message).toBe(NOT_DECRYPTED);
    }
  });

  it('an IV of another size or a tag cut short is refused before decrypting, even when it would verify', () => {
    const sealer = createSealer(A.text);
    const sizes = 'the stored tokens need a 12-byte IV and a 16-byte tag';
    for (const [ivBytes, tagBytes] of [
      [16, 16],
      [8, 16],
      [13, 16],
      [12, 12],
      [12, 8],
      [12, 4],
    ]) {
      // Each of these is a genuine GCM seal with the right key and binding.
      const value = handSealed({ iv: Buffer.alloc(ivBytes!, 9), tagBytes: tagBytes! });
      expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, value)).message, `IV ${ivBytes}, tag ${tagBytes}`).toBe(sizes);
    }
    for (const fields of [{ iv: undefined }, { iv: 5 }, { tag: null }, { tag: ['x'] }, { iv: '' }]) {
      expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, handSealed({ fields }))).message, JSON.stringify(fields)).toBe(sizes);
    }
  });

  it('data that is no string is empty ciphertext: with a tag over nothing it opens to nothing, which is no JSON', () => {
    const sealer = createSealer(A.text);
    for (const data of [null, 5, undefined, { a: 1 }]) {
      const value = handSealed({ plaintext: '', fields: { data } });
      expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, value)).message, String(data)).toBe('the stored token value is not JSON');
    }
  });

  it('altered ciphertext, tag or IV does not open', () => {
    const sealer = createSealer(A.text);
    const parsed = JSON.parse(sealer.seal(STORAGE_KEY, 3, TOKENS));
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64');
      bytes[0]! ^= 1;
      return bytes.toString('base64');
    };
    for (const field of ['data', 'tag', 'iv']) {
      const value = JSON.stringify({ ...parsed, [field]: flip(parsed[field]) });
      expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, value)).message, field).toBe(NOT_DECRYPTED);
    }
  });
});

describe('formats and garbage: a typed TokenDecryptionError that never shows a token', () => {
  it('a value that is no JSON', () => {
    for (const sealer of [createSealer(undefined), createSealer(A.text)]) {
      for (const value of ['not json', '', '{"f":1,"tokens":{"accessToken":"at-secret-1"']) {
        expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, value)).message).toBe('the stored token value is not JSON');
      }
    }
  });

  it('an unknown format, or none, is named and refused, whether or not a key is set', () => {
    const sealed = JSON.parse(createSealer(A.text).seal(STORAGE_KEY, 3, TOKENS));
    const plain = { f: 1, tokens: TOKENS };
    const cases: [string, string][] = [
      ['null', 'unknown'],
      ['5', 'unknown'],
      ['"text"', 'unknown'],
      ['[]', 'unknown'],
      ['{}', 'unknown'],
      [JSON.stringify({ f: 3 }), '3'],
      [JSON.stringify({ f: 0 }), '0'],
      [JSON.stringify({ f: '1', tokens: TOKENS }), 'unknown'],
      [JSON.stringify({ f: null, tokens: TOKENS }), 'unknown'],
      [JSON.stringify({ ...plain, f: 3 }), '3'],
      // A format 2 value relabelled: the same seal, but no format this version reads.
      [JSON.stringify({ ...sealed, f: 3 }), '3'],
      [JSON.stringify({ ...sealed, f: '2' }), 'unknown'],
      [JSON.stringify({ ...sealed, f: 2.5 }), '2.5'],
      [JSON.stringify({ ...sealed, f: undefined }), 'unknown'],
    ];
    for (const sealer of [createSealer(undefined), createSealer(A.text), createSealer([B.text, A.text])]) {
      for (const [value, named] of cases) {
        expect(decryptionError(() => sealer.open(STORAGE_KEY, 3, value)).message, value).toBe(
          `the stored token value has format ${named}; this version reads formats 1 and 2`,
        );
      }
    }
  });

  it('plaintext is format 1 only: a format 2 value without a key id is no plaintext', () => {
    const plain = createSealer(undefined);
    expect(decryptionError(() => plain.open(STORAGE_KEY, 3, JSON.stringify({ f: 2, tokens: TOKENS }))).message).toBe(
      'the stored tokens are encrypted, but no encryptionKey is set',
    );
    expect(decryptionError(() => createSealer(A.text).open(STORAGE_KEY, 3, JSON.stringify({ f: 2, tokens: TOKENS }))).message).toBe(
      'the stored tokens were encrypted with key id undefined, which is not in encryptionKey',
    );
  });

  it('a token set the lifecycle cannot use, in the clear or sealed, names the field and never its value', () => {
    const bad: [unknown, string][] = [
      [undefined, 'tokens need a non-empty accessToken string'],
      [5, 'tokens need a non-empty accessToken string'],
      [{ ...TOKENS, scope: 5 }, 'tokens.scope must be an array of strings'],
      [{ ...TOKENS, tokenType: 7 }, 'tokens.tokenType must be a string'],
      [{ ...TOKENS, raw: [] }, 'tokens.raw must be an object'],
      [{ ...TOKENS, refreshToken: 1 }, 'tokens.refreshToken must be a string'],
    ];
    for (const [tokens, reason] of bad) {
      const message = `the stored value holds no valid token set: ${reason}`;
      expect(decryptionError(() => createSealer(undefined).open(STORAGE_KEY, 3, JSON.stringify({ f: 1, tokens }))).message).toBe(message);
      if (tokens === undefined) continue;
      const sealed = handSealed({ plaintext: JSON.stringify(tokens) });
      expect(decryptionError(() => createSealer(A.text).open(STORAGE_KEY, 3, sealed)).message).toBe(message);
    }
  });

  it('a spending mark rides beside the tokens, outside the seal: it opens with them, and a value without one (an older release wrote it) opens as before', () => {
    const mark = { owner: 'instance-a', beatMs: 1_000 };
    for (const sealer of [createSealer(undefined), createSealer(A.text)]) {
      const value = sealer.seal(STORAGE_KEY, 3, TOKENS, mark);
      expect(JSON.parse(value)).toMatchObject({ spending: mark });
      expect(sealer.open(STORAGE_KEY, 3, value)).toEqual({ tokens: TOKENS, spending: mark });
      // An older release's reader takes what it knows: the tokens are where they were.
      const { spending: _, ...withoutMark } = JSON.parse(value) as Record<string, unknown>;
      expect(sealer.open(STORAGE_KEY, 3, JSON.stringify(withoutMark))).toEqual({ tokens: TOKENS });
      expect(JSON.parse(sealer.seal(STORAGE_KEY, 3, TOKENS))).not.toHaveProperty('spending');
    }
    const bad: [unknown, string][] = [
      [null, 'a stored spending mark needs a non-empty owner string'],
      [{ owner: '', beatMs: 1_000 }, 'a stored spending mark needs a non-empty owner string'],
      [{ owner: 'a', beatMs: 0 }, 'a stored spending mark needs a beatMs from 100 to 10000'],
      // Planted: a waiter would take the mark as abandoned at once, or wait it out for minutes (review 10, finding 3).
      [{ owner: 'a', beatMs: 1e-300 }, 'a stored spending mark needs a beatMs from 100 to 10000'],
      [{ owner: 'a', beatMs: 99 }, 'a stored spending mark needs a beatMs from 100 to 10000'],
      [{ owner: 'a', beatMs: 10_001 }, 'a stored spending mark needs a beatMs from 100 to 10000'],
      [{ owner: 'a', beatMs: 60_000 }, 'a stored spending mark needs a beatMs from 100 to 10000'],
      [{ owner: 'a', beatMs: '1000' }, 'a stored spending mark needs a beatMs from 100 to 10000'],
    ];
    for (const [spending, reason] of bad) {
      const value = JSON.stringify({ f: 1, tokens: TOKENS, spending });
      expect(decryptionError(() => createSealer(undefined).open(STORAGE_KEY, 3, value)).message).toBe(
        `the stored value holds no valid token set: ${reason}`,
      );
      expect(decryptionError(() => createSealer(A.text).open(STORAGE_KEY, 3, handSealed({ fields: { spending } }))).message).toBe(
        `the stored value holds no valid token set: ${reason}`,
      );
    }
  });

  it('a failure in the token check that is no ConfigurationError (a bug, not bad data) is not relabelled as bad data', () => {
    const sealer = createSealer(undefined);
    const value = sealer.seal(STORAGE_KEY, 3, TOKENS);
    const bug = new TypeError('a bug in toTokens');
    failure.error = bug;
    try {
      expect(thrownBy(() => sealer.open(STORAGE_KEY, 3, value))).toBe(bug);
    } finally {
      failure.error = undefined;
    }
    expect(sealer.open(STORAGE_KEY, 3, value)).toEqual({ tokens: TOKENS });
  });
});
