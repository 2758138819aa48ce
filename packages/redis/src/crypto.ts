import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigurationError, type Tokens } from '@portico/auth';
import { TokenDecryptionError } from './errors.js';

// Stored values are JSON with a format number, so a later release can read
// (or refuse) what an older one wrote: { f: 1, tokens } in the clear, or
// { f: 1, k: keyId, iv, tag, data } sealed with AES-256-GCM.
const FORMAT = 1;

interface Key {
  id: string;
  bytes: Buffer;
}

export interface Sealer {
  seal(storageKey: string, tokens: Tokens): string;
  open(storageKey: string, value: string): Tokens;
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

/** Encrypts with the first key and decrypts with any; without keys, stores JSON in the clear. */
export function createSealer(encryptionKey: string | readonly string[] | undefined): Sealer {
  const list = encryptionKey === undefined ? [] : typeof encryptionKey === 'string' ? [encryptionKey] : [...encryptionKey];
  if (encryptionKey !== undefined && list.length === 0) throw new ConfigurationError('encryptionKey is an empty list');
  const keys = list.map(parseKey);
  const byId = new Map(keys.map((key) => [key.id, key]));

  return {
    seal(storageKey, tokens) {
      const key = keys[0];
      if (key === undefined) return JSON.stringify({ f: FORMAT, tokens });
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
      // Bound to its Redis key: a value copied under another user's key does not open.
      cipher.setAAD(Buffer.from(storageKey));
      const data = Buffer.concat([cipher.update(JSON.stringify(tokens), 'utf8'), cipher.final()]);
      return JSON.stringify({
        f: FORMAT,
        k: key.id,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      });
    },

    open(storageKey, value) {
      let parsed: { f?: unknown; k?: unknown; iv?: unknown; tag?: unknown; data?: unknown; tokens?: unknown };
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new TokenDecryptionError('the stored token value is not JSON');
      }
      if (parsed?.f !== FORMAT)
        throw new TokenDecryptionError(`the stored token value has format ${String(parsed?.f)}; this version reads format ${FORMAT}`);
      if (parsed.k === undefined) {
        // Plaintext where encryption is on would let whoever can write to Redis plant tokens.
        if (keys.length > 0) throw new TokenDecryptionError('the stored tokens are not encrypted, but an encryptionKey is set');
        return parsed.tokens as Tokens;
      }
      if (keys.length === 0) throw new TokenDecryptionError('the stored tokens are encrypted, but no encryptionKey is set');
      const key = byId.get(String(parsed.k));
      if (key === undefined)
        throw new TokenDecryptionError(`the stored tokens were encrypted with key id ${String(parsed.k)}, which is not in encryptionKey`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(String(parsed.iv), 'base64'));
        decipher.setAAD(Buffer.from(storageKey));
        decipher.setAuthTag(Buffer.from(String(parsed.tag), 'base64'));
        const text = Buffer.concat([decipher.update(Buffer.from(String(parsed.data), 'base64')), decipher.final()]).toString('utf8');
        return JSON.parse(text) as Tokens;
      } catch {
        throw new TokenDecryptionError('the stored tokens do not decrypt: altered, or sealed for another key');
      }
    },
  };
}
