import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigurationError, type SpendingMark, type StoredTokens, type Tokens } from '@portico/auth';
import { toSpending, toTokens } from '@portico/auth/internal';
import { TokenDecryptionError } from './errors.js';

// Stored values are JSON with a format number, so a later release can read
// (or refuse) what an older one wrote: { f: 1, tokens } in the clear, or
// { f: 2, k: keyId, iv, tag, data } sealed with AES-256-GCM for one Redis key
// and one version. Sealed values of format 1 (bound to the key only) are
// still read, so upgrading loses no grant; see `aad`. A spending mark rides
// beside the tokens, in the clear (`spending`): it holds no secret, and a
// release that knows no marks reads the value as before.
const PLAIN = 1;
const KEY_BOUND = 1;
const VERSION_BOUND = 2;
// GCM's own sizes. A shorter tag is one a forger can guess (a 4-byte tag in
// some 2^32 tries), and Node accepts one unless told the length.
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  id: string;
  bytes: Buffer;
}

/** What a stored value holds: the token set, and the spending mark it was written with. */
type Opened = Omit<StoredTokens, 'version'>;

export interface Sealer {
  /** `version`: the one the compare-and-set script will store the value under. */
  seal(storageKey: string, version: number, tokens: Tokens, spending?: SpendingMark): string;
  open(storageKey: string, version: number, value: string): Opened;
}

// What a sealed value is bound to. The version makes an older value of the
// same key, put back by someone who can write Redis but has no key, fail to
// open instead of handing out a spent refresh token. Format 1 bound only the
// key; the two never collide (a storage key ends in `:tokens`, the JSON in
// `]`), so relabelling a format 2 value as format 1 does not open either.
function aad(format: number, storageKey: string, version: number): Buffer {
  return Buffer.from(format === KEY_BOUND ? storageKey : JSON.stringify([storageKey, version]));
}

function parseKey(text: string, index: number): Key {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 32 || bytes.toString('base64').replace(/=+$/, '') !== text.trim().replace(/=+$/, '')) {
    throw new ConfigurationError(
      `encryptionKey${index === 0 ? '' : `[${index}]`} must be the base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  // The key id names the key without revealing it, so values can say which key sealed them.
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 12), bytes };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TokenDecryptionError('the stored token value is not JSON');
  }
}

// Checked as the token lifecycle will check it (toTokens), so that garbage
// fields (a scope that is no list, a numeric tokenType) are this store's
// typed error, which the lifecycle never writes over, not a failure later.
function opened(tokens: unknown, spending: unknown): Opened {
  try {
    const mark = toSpending(spending);
    return mark === undefined ? { tokens: toTokens(tokens as Tokens) } : { tokens: toTokens(tokens as Tokens), spending: mark };
  } catch (error) {
    // toTokens' and toSpending's messages name the field, never its value.
    if (error instanceof ConfigurationError) throw new TokenDecryptionError(`the stored value holds no valid token set: ${error.message}`);
    throw error;
  }
}

/** Encrypts with the first key and decrypts with any; without keys, stores JSON in the clear. */
export function createSealer(encryptionKey: string | readonly string[] | undefined): Sealer {
  const list = encryptionKey === undefined ? [] : typeof encryptionKey === 'string' ? [encryptionKey] : [...encryptionKey];
  if (encryptionKey !== undefined && list.length === 0) throw new ConfigurationError('encryptionKey is an empty list');
  const keys = list.map(parseKey);
  const byId = new Map(keys.map((key) => [key.id, key]));

  return {
    seal(storageKey, version, tokens, spending) {
      const key = keys[0];
      if (key === undefined) return JSON.stringify({ f: PLAIN, tokens, spending });
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
      // Bound to its Redis key (a value copied under another user's key does not open) and version (nor an older one put back).
      cipher.setAAD(aad(VERSION_BOUND, storageKey, version));
      // Stryker disable next-line StringLiteral: cipher.update reads a string with an empty input encoding as utf8, its default, so the ciphertext is the same bytes
      const data = Buffer.concat([cipher.update(JSON.stringify(tokens), 'utf8'), cipher.final()]);
      return JSON.stringify({
        f: VERSION_BOUND,
        k: key.id,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
        spending,
      });
    },

    open(storageKey, version, value) {
      const parsed = parseJson(value) as {
        f?: unknown;
        k?: unknown;
        iv?: unknown;
        tag?: unknown;
        data?: unknown;
        tokens?: unknown;
        spending?: unknown;
      } | null;
      const format = parsed?.f;
      if (parsed === null || (format !== PLAIN && format !== VERSION_BOUND)) {
        const named = typeof format === 'number' ? format : 'unknown';
        throw new TokenDecryptionError(
          `the stored token value has format ${named}; this version reads formats ${PLAIN} and ${VERSION_BOUND}`,
        );
      }
      // Plaintext has no seal to bind anything to: it is format 1 only.
      if (parsed.k === undefined && format === PLAIN) {
        // Plaintext where encryption is on would let whoever can write to Redis plant tokens.
        if (keys.length > 0) throw new TokenDecryptionError('the stored tokens are not encrypted, but an encryptionKey is set');
        return opened(parsed.tokens, parsed.spending);
      }
      if (keys.length === 0) throw new TokenDecryptionError('the stored tokens are encrypted, but no encryptionKey is set');
      const key = byId.get(String(parsed.k));
      if (key === undefined)
        throw new TokenDecryptionError(`the stored tokens were encrypted with key id ${String(parsed.k)}, which is not in encryptionKey`);
      const [iv, tag, data] = [parsed.iv, parsed.tag, parsed.data].map((field) =>
        Buffer.from(typeof field === 'string' ? field : '', 'base64'),
      );
      if (iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES)
        throw new TokenDecryptionError(`the stored tokens need a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag`);
      let text: string;
      try {
        // Stryker disable next-line ObjectLiteral: the tag is checked above to be TAG_BYTES long, and GCM checks a 16-byte tag the same with or without authTagLength
        const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv!, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(format, storageKey, version));
        decipher.setAuthTag(tag!);
        text = Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
      } catch {
        throw new TokenDecryptionError(
          'the stored tokens do not decrypt: altered, put back from an older version, or sealed for another key',
        );
      }
      return opened(parseJson(text), parsed.spending);
    },
  };
}
