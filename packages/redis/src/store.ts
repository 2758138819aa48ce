import { createHash, randomUUID } from 'node:crypto';
import {
  type AuthTelemetry,
  ConfigurationError,
  DEFAULT_TOKEN_TIMEOUT_MS,
  type Lease,
  type SpendingMark,
  type StoredTokens,
  type TokenStore,
  type Tokens,
  TokenTimeoutError,
} from '@portico/auth';
import { abortable, sleep, unsavedWritten } from '@portico/auth/internal';
import { createClient, createCluster } from '@redis/client';
import { createSealer, type Sealer } from './crypto.js';
import { LockLostError, RedisUnavailableError, TokenDecryptionError } from './errors.js';

interface Connection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
}

/** `createClient()`: one Redis server. */
interface NodeConnection extends Connection {
  sendCommand<T = unknown>(args: readonly string[], options?: { timeout?: number }): Promise<T>;
}

/** `createCluster()`: commands go to the node that serves their first key's slot. */
interface ClusterConnection extends Connection {
  readonly masters: readonly unknown[];
  sendCommand<T = unknown>(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    // Mutable, as the cluster client declares it, so that a createCluster() client is assignable.
    args: string[],
    options?: { timeout?: number },
  ): Promise<T>;
}

/** `createSentinel()`: commands go to the master that the Sentinels name. */
interface SentinelConnection extends Connection {
  getSentinelNode(): unknown;
  sendCommand<T = unknown>(isReadonly: boolean | undefined, args: string[], options?: { timeout?: number }): Promise<T>;
}

/** A node-redis client the store can use: `createClient()` (one server), `createCluster()` (Redis Cluster) or `createSentinel()`, from `redis` or `@redis/client`. */
export type RedisConnection = NodeConnection | ClusterConnection | SentinelConnection;

interface Destroyable {
  destroy(): void;
}

/** What the store creates itself (`createClient()`, `createCluster()`): it closes those, and can drop their sockets. */
type OwnedConnection = (NodeConnection & Destroyable) | OwnedCluster;

/** A cluster the store created: its nodes' clients, to drop their sockets. */
interface OwnedCluster extends ClusterConnection, Destroyable {
  readonly masters: readonly { client?: Destroyable }[];
  readonly replicas: readonly { client?: Destroyable }[];
}

function isCluster(client: OwnedConnection): client is OwnedCluster {
  return 'masters' in client;
}

type Send = <T>(firstKey: string, args: string[], options: { timeout: number }) => Promise<T>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

// Told apart by what each client kind has: a cluster its masters and
// nodeClient, Sentinel its getSentinelNode; anything else (ioredis, a pool,
// a wrapper) would be called wrongly, so it is refused up front.
function sendOf(client: unknown): Send {
  if (
    !isObject(client) ||
    typeof client.sendCommand !== 'function' ||
    typeof client.connect !== 'function' ||
    typeof client.isReady !== 'boolean'
  )
    throw new ConfigurationError(
      'client must be a node-redis client: createClient(), createCluster() or createSentinel() from redis or @redis/client',
    );
  if (typeof client.getSentinelNode === 'function') {
    const sentinel = client as unknown as SentinelConnection;
    return (_firstKey, args, options) => sentinel.sendCommand(false, args, options);
  }
  if (typeof client.nodeClient === 'function' && Array.isArray(client.masters)) {
    const cluster = client as unknown as ClusterConnection;
    return (firstKey, args, options) => cluster.sendCommand(firstKey, false, args, options);
  }
  const node = client as unknown as NodeConnection;
  return (_firstKey, args, options) => node.sendCommand(args, options);
}

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` of one Redis server. Give one of `url`, `cluster` or `client`. */
  url?: string;
  /** URLs of some nodes of a Redis Cluster (`redis://host:port`); the others are found from them. */
  cluster?: readonly string[];
  /** A node-redis client you own (`createClient()`, `createCluster()` or `createSentinel()`): the store connects it if needed, and `close()` leaves it open. */
  client?: RedisConnection;
  /** Prefix of every key (default `portico:`). */
  keyPrefix?: string;
  /** Base64 of 32 random bytes, or a list: the first encrypts, all decrypt. Rotate in three rollouts (README): `[old, new]`, then `[new, old]`, then `[new]`. */
  encryptionKey?: string | readonly string[] | undefined;
  /** Lease of the refresh lock in ms (default 10 000); renewed while its holder works, so only a dead holder's lease runs out. */
  lockTtlMs?: number;
  /** Bound on every Redis command (also a stalled server's), on the first connection and on `close()`, in ms (default 2 000): past it a call fails with RedisUnavailableError, and `close()` drops the connection. */
  commandTimeoutMs?: number;
  /**
   * How long a client reuses tokens it read before reading Redis again for
   * its next request's header, in ms (default 1 000; 0 reads every time).
   * Renewals and 401s always read Redis under the lock, so this only delays
   * noticing another instance's new access token, and lets calls go on that
   * long when Redis goes away.
   */
  cacheMs?: number;
  /**
   * `openTelemetry()` of `@portico/runtime/telemetry`: each wait for the lock
   * becomes a `portico.auth.lock.wait` span (under the renewal that waits)
   * and a duration, and every failed command is counted, those the store
   * retries or gives up on in the background (a lease's renewal) included.
   */
  telemetry?: StoreTelemetry;
}

/** A TokenStore over Redis that many processes share; `close()` when done. */
export interface RedisTokenStore extends TokenStore {
  lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): Promise<void>;
}

// Compare-and-set. A deleted value leaves its version behind (a tombstone),
// so a late writer that read an older version can never match again. The
// value is sealed for the version it is stored under (ARGV[4]); a first
// write after a delete cannot know the tombstone's version, so it is told
// (a negative reply: -(the version to seal for)) and seals again. Every
// argument is checked before the first write: a command that fails after
// HSET would leave the new value stored under the old lifetime.
const SET = `
local function whole(s) return s ~= nil and string.match(s, '^%d+$') ~= nil end
if not (whole(ARGV[1]) and whole(ARGV[3]) and #ARGV[3] <= 15 and whole(ARGV[4]) and #ARGV[2] > 0) then
  return redis.error_reply('ERR portico: bad arguments to the compare-and-set script')
end
local cur = redis.call('HMGET', KEYS[1], 'version', 'value')
local version = tonumber(cur[1]) or 0
local expected = tonumber(ARGV[1])
if cur[2] then
  if version ~= expected then return 0 end
elseif expected ~= 0 then
  return 0
end
version = version + 1
if version ~= tonumber(ARGV[4]) then return -version end
redis.call('HSET', KEYS[1], 'version', version, 'value', ARGV[2])
if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else redis.call('PERSIST', KEYS[1]) end
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
// Exported for the tests, which run the scripts with arguments the store itself never sends.
export const SCRIPTS = { set: script(SET), delete: script(DELETE), release: script(RELEASE), renew: script(RENEW) };

function isErrorReply(error: unknown): error is Error {
  return error instanceof Error && (error.constructor.name === 'ErrorReply' || error.constructor.name === 'SimpleError');
}

// Replies that mean "not now": a cluster without all its slots served (as
// while it restarts), a node still loading its data, a slot being moved, a
// busy script, a replica that cannot write. To the caller that is an outage
// like a lost connection.
const NOT_NOW = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|BUSY|READONLY|MOVED|ASK)\b/;

// The key of one session inside braces: a Redis Cluster hash tag, so the
// session's keys live on one slot and its scripts can touch them together.
function hashTag(key: string): string {
  return `{${key.replace(/[%{}]/g, (c) => encodeURIComponent(c))}}`;
}

// PEXPIRE takes whole milliseconds; the script takes at most 15 digits
// (some 31 000 years), and a longer lifetime is as good as none.
const MAX_TTL_MS = 999_999_999_999_999;

/** How long the stored tokens are worth keeping, in whole ms (0: no expiry): the refresh token's lifetime where the response told it, else the access token's. */
function lifetimeMs(tokens: Tokens, now: number): number {
  const raw = tokens.raw ?? {};
  const refreshSeconds = raw.refresh_expires_in ?? raw.refresh_token_expires_in;
  let until: number | undefined = tokens.expiresAt;
  if (tokens.refreshToken !== undefined) {
    const seconds = typeof refreshSeconds === 'string' ? Number(refreshSeconds) : refreshSeconds;
    until = typeof seconds === 'number' && seconds > 0 ? (tokens.issuedAt ?? now) + seconds * 1000 : undefined;
  }
  if (until === undefined || !Number.isFinite(until)) return 0;
  const ms = Math.max(1, Math.ceil(until - now));
  return ms > MAX_TTL_MS ? 0 : ms;
}

/** What the store tells its telemetry: the waits for its lock, and its failed commands. */
type StoreTelemetry = Pick<AuthTelemetry, 'lockWait' | 'storeError'>;

/**
 * `telemetry`, off for good at its first fault (a throw, or a wait's end
 * that is no function): a fault of its never leaves a lock taken, nor
 * replaces the error a command ends with.
 */
function guarded(telemetry: StoreTelemetry): StoreTelemetry {
  let on = true;
  const run = (told: () => unknown): unknown => {
    if (!on) return undefined;
    try {
      return told();
    } catch {
      on = false;
      return undefined;
    }
  };
  return {
    lockWait: () => {
      const end = run(() => telemetry.lockWait());
      return (error) => {
        if (typeof end === 'function') run(() => end(error));
        else on = false;
      };
    },
    storeError: (error) => {
      run(() => telemetry.storeError(error));
    },
  };
}

class RedisStore implements RedisTokenStore {
  readonly #client: RedisConnection;
  readonly #send: Send;
  /** The client the store created (and so closes), not one the user handed in. */
  readonly #owned: OwnedConnection | undefined;
  readonly #prefix: string;
  readonly #sealer: Sealer;
  readonly #lockTtlMs: number;
  readonly #timeoutMs: number;
  readonly cacheMs: number;
  readonly spendingMarks = true;
  readonly #telemetry: StoreTelemetry | undefined;
  #connecting: Promise<unknown> | undefined;
  #closed = false;
  // The owner of the last spending mark this store wrote on each key, until a write without one lands.
  readonly #spenders = new Map<string, string>();

  constructor(options: RedisStoreOptions) {
    if ([options.url, options.cluster, options.client].filter((x) => x !== undefined).length !== 1)
      throw new ConfigurationError('createRedisStore needs one of url, cluster or client');
    this.#timeoutMs = options.commandTimeoutMs ?? 2_000;
    if (!(this.#timeoutMs > 0)) throw new ConfigurationError('commandTimeoutMs must be positive');
    this.#lockTtlMs = options.lockTtlMs ?? 10_000;
    if (!(this.#lockTtlMs >= 100)) throw new ConfigurationError('lockTtlMs must be at least 100');
    this.#prefix = options.keyPrefix ?? 'portico:';
    this.cacheMs = options.cacheMs ?? 1_000;
    this.#sealer = createSealer(options.encryptionKey);
    const { telemetry } = options;
    if (telemetry !== undefined && (typeof telemetry?.lockWait !== 'function' || typeof telemetry.storeError !== 'function'))
      throw new ConfigurationError('telemetry must be an openTelemetry() of @portico/runtime/telemetry');
    this.#telemetry = telemetry === undefined ? undefined : guarded(telemetry);
    this.#owned = options.client === undefined ? this.#connection(options) : undefined;
    this.#client = options.client ?? this.#owned!;
    this.#send = sendOf(this.#client);
  }

  #connection(options: RedisStoreOptions): OwnedConnection {
    const node = {
      // Fail fast while disconnected instead of queueing calls until Redis is back.
      disableOfflineQueue: true,
      socket: { connectTimeout: this.#timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
    };
    if (options.cluster !== undefined && options.cluster.length === 0)
      throw new ConfigurationError('cluster is an empty list of node URLs');
    const client =
      options.cluster === undefined
        ? createClient({ url: options.url!, ...node })
        : createCluster({ rootNodes: options.cluster.map((url) => ({ url })), defaults: node });
    // Connection errors surface per call as RedisUnavailableError; without a listener they would crash the process.
    client.on('error', () => undefined);
    return client as unknown as OwnedConnection;
  }

  #keys(key: string) {
    const tag = `${this.#prefix}${hashTag(key)}`;
    return { tokens: `${tag}:tokens`, lock: `${tag}:lock` };
  }

  // node-redis times out only a command it has not written yet; a server
  // that took the command and stalls (paused, swapping, a dead link with no
  // RST) would hold the call forever. So every wait has a deadline of ours.
  async #bounded<T>(work: Promise<T>, what: string): Promise<T> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await abortable(work, deadline);
    } catch (error) {
      // Stryker disable next-line LogicalOperator: once the deadline fired, abortable has rejected with its reason: no other error can be caught after it
      if (deadline.aborted && error === deadline.reason)
        throw new RedisUnavailableError(`Redis did not ${what} within ${this.#timeoutMs} ms`);
      if (error instanceof RedisUnavailableError || (isErrorReply(error) && !NOT_NOW.test(error.message))) throw error;
      throw new RedisUnavailableError(`Redis did not ${what}`, { cause: error });
    }
  }

  async #command<T>(firstKey: string, args: string[]): Promise<T> {
    try {
      return await this.#commandOnce<T>(firstKey, args);
    } catch (error) {
      // A script this Redis has not cached yet is no failure: #eval sends it whole.
      if (!isNoScript(error)) this.#telemetry?.storeError(error);
      throw error;
    }
  }

  async #commandOnce<T>(firstKey: string, args: string[]): Promise<T> {
    if (this.#closed) throw new RedisUnavailableError('the Redis token store is closed');
    if (!this.#client.isReady) {
      if (!this.#client.isOpen) {
        this.#connecting ??= this.#client.connect().catch((error: unknown) => {
          this.#connecting = undefined;
          throw error;
        });
      }
      // Only the first connection is waited for (briefly); once it was up, a disconnected client fails at once.
      if (this.#connecting !== undefined) await this.#bounded(this.#connecting, 'accept a connection');
      if (!this.#client.isReady) throw new RedisUnavailableError('Redis is not connected');
    }
    // Stryker disable next-line ObjectLiteral: node-redis times out only a command not yet written, and it writes at once; our own deadline bounds the wait either way
    return this.#bounded(this.#send<T>(firstKey, args, { timeout: this.#timeoutMs }), 'answer');
  }

  async #eval<T>(s: Script, key: string, args: string[]): Promise<T> {
    const rest = ['1', key, ...args];
    try {
      return await this.#command<T>(key, ['EVALSHA', s.sha, ...rest]);
    } catch (error) {
      // A restarted (or new) Redis has no scripts cached yet.
      if (!isNoScript(error)) throw error;
      return this.#command<T>(key, ['EVAL', s.source, ...rest]);
    }
  }

  async get(key: string): Promise<StoredTokens | undefined> {
    const storageKey = this.#keys(key).tokens;
    const [version, value] = await this.#command<[string | null, string | null]>(storageKey, ['HMGET', storageKey, 'version', 'value']);
    if (value === null) return undefined;
    try {
      if (version === null || !/^[1-9]\d{0,14}$/.test(version))
        throw new TokenDecryptionError('the stored token value has no valid version');
      return { ...this.#sealer.open(storageKey, Number(version), value), version: Number(version) };
    } catch (error) {
      this.#telemetry?.storeError(error);
      throw error;
    }
  }

  async set(key: string, tokens: Tokens, expected: number, spending?: SpendingMark): Promise<number | undefined> {
    if (!Number.isSafeInteger(expected) || expected < 0)
      throw new ConfigurationError('the expected version must be a whole number, 0 or more');
    const storageKey = this.#keys(key).tokens;
    // Before it is sent: from then on the refresh token may be spent, and close() waits for its spender, wrapped store or not.
    if (spending !== undefined) this.#spenders.set(key, spending.owner);
    const ttl = String(lifetimeMs(tokens, Date.now()));
    let version = expected + 1;
    // Twice at most: the first try of a write after a delete learns the tombstone's version; a
    // second refusal means another instance wrote (or deleted) in between, which is a conflict.
    for (let attempt = 0; attempt < 2; attempt++) {
      const value = this.#sealer.seal(storageKey, version, tokens, spending);
      const stored = Number(await this.#eval<number>(SCRIPTS.set, storageKey, [String(expected), value, ttl, String(version)]));
      if (stored > 0 && spending === undefined) this.#spenders.delete(key);
      if (stored >= 0) return stored === 0 ? undefined : stored;
      version = -stored;
    }
    return undefined;
  }

  async delete(key: string, expected?: number): Promise<void> {
    await this.#eval(SCRIPTS.delete, this.#keys(key).tokens, [expected === undefined ? '' : String(expected), String(TOMBSTONE_MS)]);
  }

  async lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lockKey = this.#keys(key).lock;
    const owner = randomUUID();
    const ttl = String(this.#lockTtlMs);
    const release = () => this.#eval(SCRIPTS.release, lockKey, [owner]).catch(() => undefined);
    const wait = signal ?? timeoutSignal(DEFAULT_TOKEN_TIMEOUT_MS);
    const waited = this.#telemetry?.lockWait();
    let validUntil: number;
    try {
      for (let attempt = 0; ; attempt++) {
        wait.throwIfAborted();
        const sentAt = Date.now();
        const taken = await this.#command<string | null>(lockKey, ['SET', lockKey, owner, 'NX', 'PX', ttl]).catch((error: unknown) => {
          // A SET that timed out may still be applied; the release queued behind it on the same connection undoes it.
          void release();
          throw error;
        });
        if (taken === 'OK') {
          validUntil = sentAt + this.#lockTtlMs;
          break;
        }
        // Polling with jitter: the holder is usually done within one token request.
        await sleep(Math.min(5 * 2 ** attempt, 50) * (0.5 + Math.random()), wait);
      }

      if (wait.aborted) {
        await release();
        throw wait.reason;
      }
    } catch (error) {
      waited?.(error);
      throw error;
    }
    waited?.();
    return this.#hold(lockKey, owner, validUntil, release, fn, signal);
  }

  // Runs fn under a lease that is renewed every third of its time until fn
  // settles, `signal` aborts, another owner is found holding the lock, or
  // no renewal was answered before the lease ran out.
  async #hold<T>(
    lockKey: string,
    owner: string,
    validUntil: number,
    release: () => Promise<unknown>,
    fn: (lease: Lease) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const lease = new AbortController();
    let expiry: NodeJS.Timeout | undefined;
    let released: Promise<unknown> | undefined;
    // The lease ends once: renewals stop and the lock is given back (only
    // while still ours), so the next holder need not wait for fn to settle.
    const end = (reason?: unknown) => {
      clearInterval(renewal);
      clearTimeout(expiry);
      signal?.removeEventListener('abort', onAbort);
      if (reason !== undefined && !lease.signal.aborted) lease.abort(reason);
      released ??= release();
      return released;
    };
    // Counted from when the last answered SET or renewal was sent: Redis
    // started that lease no earlier, so the lock is surely ours until then.
    const expireAt = (at: number) => {
      clearTimeout(expiry);
      expiry = setTimeout(
        () => end(new RedisUnavailableError(`the lock lease ran out: no renewal was answered within ${this.#lockTtlMs} ms`)),
        at - Date.now(),
      );
    };
    const renewal = setInterval(() => {
      const sentAt = Date.now();
      this.#eval<number>(SCRIPTS.renew, lockKey, [owner, String(this.#lockTtlMs)]).then(
        (ok) => {
          if (released !== undefined) return;
          if (Number(ok) === 1) expireAt(sentAt + this.#lockTtlMs);
          else end(new LockLostError('the lock lease ran out and another owner took the lock'));
        },
        // Unanswered, the lease still holds until its time is up; the expiry timer ends it then.
        () => undefined,
      );
    }, this.#lockTtlMs / 3);
    const onAbort = () => end(signal!.reason);
    expireAt(validUntil);
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once, so without `once` the listener still runs once; end() removes it either way
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await abortable(fn({ signal: lease.signal }), signal);
    } finally {
      await end();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Rotated tokens that a session could not save while Redis was away are
    // the only copy of the new refresh token: they are written first (each
    // session retries for at most twice its timeoutMs). A promise being
    // awaited keeps no process alive, so a timer does meanwhile.
    const alive = setInterval(() => undefined, 1_000);
    try {
      await unsavedWritten(this, { has: (owner) => [...this.#spenders.values()].includes(owner) });
    } finally {
      clearInterval(alive);
    }
    this.#closed = true;
    const owned = this.#owned;
    if (owned === undefined || !owned.isOpen) return;
    // node-redis's close() waits for every command already sent, and a stalled
    // Redis never answers them: a worker awaiting close() on shutdown would hang.
    // Past the deadline the sockets are dropped; those commands' callers have
    // long had their RedisUnavailableError. A cluster's close() forgets its
    // nodes at once (its destroy() after that finds none), so they are taken first.
    const connections = isCluster(owned) ? [...owned.masters, ...owned.replicas].flatMap((node) => node.client ?? []) : [owned];
    // Stryker disable next-line StringLiteral: the error's message is never seen: the catch drops the sockets instead
    await this.#bounded(owned.close(), 'close the connection').catch(() => {
      for (const connection of connections) connection.destroy();
    });
  }
}

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

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
