import { createHash, randomUUID } from 'node:crypto';
import {
  ConfigurationError,
  DEFAULT_TOKEN_TIMEOUT_MS,
  type Lease,
  type StoredTokens,
  type TokenStore,
  type Tokens,
  TokenTimeoutError,
} from '@portico/auth';
import { sleep } from '@portico/auth/internal';
import { createClient } from '@redis/client';
import { createSealer, type Sealer } from './crypto.js';
import { RedisUnavailableError } from './errors.js';

/** What the store needs of a node-redis client (`createClient()` from `redis` or `@redis/client`). */
export interface RedisConnection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  sendCommand<T = unknown>(args: readonly string[], options?: { timeout?: number }): Promise<T>;
}

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…`. Give this or `client`. */
  url?: string;
  /** A node-redis client you own: the store connects it if needed, and `close()` leaves it open. */
  client?: RedisConnection;
  /** Prefix of every key (default `portico:`). */
  keyPrefix?: string;
  /** Base64 of 32 random bytes, or a list: the first encrypts, all decrypt (rotate by putting the new key first). */
  encryptionKey?: string | readonly string[] | undefined;
  /** Lease of the refresh lock in ms (default 10 000); renewed while its holder works, so only a dead holder's lease runs out. */
  lockTtlMs?: number;
  /** Bound on one Redis command, and on the first connection, in ms (default 2 000): past it a call fails with RedisUnavailableError. */
  commandTimeoutMs?: number;
  /**
   * How long a client reuses tokens it read before reading Redis again for
   * its next request's header, in ms (default 1 000; 0 reads every time).
   * Renewals and 401s always read Redis under the lock, so this only delays
   * noticing another instance's new access token, and lets calls go on that
   * long when Redis goes away.
   */
  cacheMs?: number;
}

/** A TokenStore over Redis that many processes share; `close()` when done. */
export interface RedisTokenStore extends TokenStore {
  lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): Promise<void>;
}

// Compare-and-set. A deleted value leaves its version behind (a tombstone),
// so a late writer that read an older version can never match again.
const SET = `
local cur = redis.call('HMGET', KEYS[1], 'version', 'value')
local version = tonumber(cur[1]) or 0
local expected = tonumber(ARGV[1])
if cur[2] then
  if version ~= expected then return 0 end
elseif expected ~= 0 then
  return 0
end
version = version + 1
redis.call('HSET', KEYS[1], 'version', version, 'value', ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
return version`;

const DELETE = `
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'value')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// Only the owner may release or extend its lock.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

const TOMBSTONE_MS = 24 * 3600_000;

interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const SCRIPTS = { set: script(SET), delete: script(DELETE), release: script(RELEASE), renew: script(RENEW) };

function isErrorReply(error: unknown): boolean {
  return error instanceof Error && (error.constructor.name === 'ErrorReply' || error.constructor.name === 'SimpleError');
}

// The key of one session inside braces: a Redis Cluster hash tag, so the
// session's keys live on one slot and its scripts can touch them together.
function hashTag(key: string): string {
  return `{${key.replace(/[%{}]/g, (c) => encodeURIComponent(c))}}`;
}

/** How long the stored tokens are worth keeping: the refresh token's lifetime where the response told it, else the access token's. */
function lifetimeMs(tokens: Tokens, now: number): number {
  const from = tokens.issuedAt ?? now;
  const raw = tokens.raw ?? {};
  const refreshSeconds = raw.refresh_expires_in ?? raw.refresh_token_expires_in;
  if (tokens.refreshToken !== undefined) {
    const seconds = typeof refreshSeconds === 'string' ? Number(refreshSeconds) : refreshSeconds;
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? Math.max(1, from + seconds * 1000 - now) : 0;
  }
  return tokens.expiresAt === undefined ? 0 : Math.max(1, tokens.expiresAt - now);
}

class RedisStore implements RedisTokenStore {
  readonly #client: RedisConnection;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #sealer: Sealer;
  readonly #lockTtlMs: number;
  readonly #timeoutMs: number;
  readonly cacheMs: number;
  #connecting: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    if ((options.url === undefined) === (options.client === undefined))
      throw new ConfigurationError('createRedisStore needs either url or client');
    this.#timeoutMs = options.commandTimeoutMs ?? 2_000;
    this.#lockTtlMs = options.lockTtlMs ?? 10_000;
    if (!(this.#lockTtlMs >= 100)) throw new ConfigurationError('lockTtlMs must be at least 100');
    this.#prefix = options.keyPrefix ?? 'portico:';
    this.cacheMs = options.cacheMs ?? 1_000;
    this.#sealer = createSealer(options.encryptionKey);
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#owned = false;
    } else {
      const client = createClient({
        url: options.url!,
        // Fail fast while disconnected instead of queueing calls until Redis is back.
        disableOfflineQueue: true,
        socket: { connectTimeout: this.#timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
      });
      // Connection errors surface per call as RedisUnavailableError; without a listener they would crash the process.
      client.on('error', () => undefined);
      this.#client = client as unknown as RedisConnection;
      this.#owned = true;
    }
  }

  #keys(key: string) {
    const tag = `${this.#prefix}${hashTag(key)}`;
    return { tokens: `${tag}:tokens`, lock: `${tag}:lock` };
  }

  async #command<T>(args: string[]): Promise<T> {
    if (this.#closed) throw new RedisUnavailableError('the Redis token store is closed');
    if (!this.#client.isReady) {
      if (!this.#client.isOpen) {
        this.#connecting ??= this.#client.connect().catch((error: unknown) => {
          this.#connecting = undefined;
          throw error;
        });
      }
      // Only the first connection is waited for (briefly); once it was up, a disconnected client fails at once.
      if (this.#connecting !== undefined) await this.#firstConnection(this.#connecting);
      if (!this.#client.isReady) throw new RedisUnavailableError('Redis is not connected');
    }
    try {
      return await this.#client.sendCommand<T>(args, { timeout: this.#timeoutMs });
    } catch (error) {
      if (isErrorReply(error)) throw error;
      throw new RedisUnavailableError('Redis did not answer', { cause: error });
    }
  }

  async #firstConnection(connecting: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(`Redis did not accept a connection within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([connecting, timeout]);
    } catch (error) {
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError('Redis refused the connection', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async #eval<T>(s: Script, keys: string[], args: string[]): Promise<T> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.#command<T>(['EVALSHA', s.sha, ...rest]);
    } catch (error) {
      // A restarted (or new) Redis has no scripts cached yet.
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.#command<T>(['EVAL', s.source, ...rest]);
    }
  }

  async get(key: string): Promise<StoredTokens | undefined> {
    const storageKey = this.#keys(key).tokens;
    const [version, value] = await this.#command<[string | null, string | null]>(['HMGET', storageKey, 'version', 'value']);
    if (value === null || version === null) return undefined;
    return { tokens: this.#sealer.open(storageKey, value), version: Number(version) };
  }

  async set(key: string, tokens: Tokens, expected: number): Promise<number | undefined> {
    const storageKey = this.#keys(key).tokens;
    const value = this.#sealer.seal(storageKey, tokens);
    const version = await this.#eval<number>(SCRIPTS.set, [storageKey], [String(expected), value, String(lifetimeMs(tokens, Date.now()))]);
    return version === 0 ? undefined : Number(version);
  }

  async delete(key: string, expected?: number): Promise<void> {
    await this.#eval(SCRIPTS.delete, [this.#keys(key).tokens], [expected === undefined ? '' : String(expected), String(TOMBSTONE_MS)]);
  }

  async lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lockKey = this.#keys(key).lock;
    const owner = randomUUID();
    const ttl = String(this.#lockTtlMs);
    const wait = signal ?? timeoutSignal(DEFAULT_TOKEN_TIMEOUT_MS);
    for (let attempt = 0; ; attempt++) {
      wait.throwIfAborted();
      if ((await this.#command<string | null>(['SET', lockKey, owner, 'NX', 'PX', ttl])) === 'OK') break;
      // Polling with jitter: the holder is usually done within one token request.
      await sleep(Math.min(5 * 2 ** attempt, 50) * (0.5 + Math.random()), wait);
    }
    const lease = new AbortController();
    let renewedAt = Date.now();
    const renew = setInterval(() => {
      this.#eval<number>(SCRIPTS.renew, [lockKey], [owner, ttl]).then(
        (ok) => {
          if (Number(ok) === 1) renewedAt = Date.now();
          else lease.abort(new Error('the lock lease was lost'));
        },
        () => {
          // Redis unreachable: the lease may still hold; it is lost once its time is up unrenewed.
          if (Date.now() - renewedAt >= this.#lockTtlMs) lease.abort(new Error('the lock lease could not be renewed'));
        },
      );
    }, this.#lockTtlMs / 3);
    try {
      return await fn({ signal: lease.signal });
    } finally {
      clearInterval(renew);
      // A release that fails leaves the lease to run out by itself.
      await this.#eval(SCRIPTS.release, [lockKey], [owner]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned && this.#client.isOpen) await this.#client.close();
  }
}

function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new TokenTimeoutError('wait for the token store lock', ms)), ms).unref();
  return controller.signal;
}

/**
 * A TokenStore in Redis, for processes that share one grant: a lock per
 * session key (`SET NX PX` with a random owner, renewed while held, released
 * only by its owner), versioned compare-and-set writes, AES-256-GCM at rest
 * when `encryptionKey` is set, and typed errors when Redis is unreachable.
 */
export function createRedisStore(options: RedisStoreOptions): RedisTokenStore {
  return new RedisStore(options);
}
