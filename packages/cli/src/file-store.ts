// The tokens file as the session's TokenStore, so `portico call`s sharing
// one file refresh like clients sharing any store: under a lock that holds
// across processes, re-reading the file under it, writing compare-and-set.
// Each process seeding a memory store of its own from the file would spend
// a rotating refresh token once per process, and a server that detects the
// reuse revokes the whole grant.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Lease, StoredTokens, TokenStore, Tokens } from '@portico/auth';
import { abortable, sleep } from '@portico/auth/internal';
import { lock as lockFile } from 'proper-lockfile';
import { CliError } from './errors.js';
import {
  adoptRecovered,
  assertReplaceable,
  hasRecovered,
  loadTokensFile,
  notLoggedIn,
  recoverTokens,
  recoveryBlocked,
  replaceFile,
  type TokensFile,
  tokensText,
  unwritable,
} from './tokens-file.js';

/**
 * A lock held from another host (or container) whose holder stopped
 * refreshing its mtime this long ago is taken over: whether that process
 * still runs cannot be asked from here. On this host the holder's pid is.
 */
const STALE_MS = 10_000;
/** How often a holder refreshes its lock's mtime, for waiters on other hosts. */
const HEARTBEAT_MS = STALE_MS / 2;
/** proper-lockfile's own rule (mtime older than `stale`) would take a stopped holder's lock: it never applies. */
const NEVER_STALE = Number.MAX_SAFE_INTEGER;
/** Bound on the wait for the lock when the caller gives no signal. */
const LOCK_WAIT_MS = 30_000;

/** Names the lock's holder inside the lock directory: its pid, its host, and when it started. */
const HOLDER = 'holder-';

interface Holder {
  pid: number;
  host: string;
  /** This boot of the host (Linux): with the host and the pid namespace, what makes the holder's pid one of this machine's. */
  boot?: string;
  /** The pid namespace (Linux): a container's pids mean nothing outside it. */
  pidns?: string;
  /** The process's start time, field 22 of /proc/<pid>/stat: a reused pid has another. */
  start?: string;
}

const readOr = (read: () => string): string | undefined => {
  try {
    return read().trim();
  } catch {
    return undefined;
  }
};

/** Fields of /proc/<pid>/stat after the command name: [0] the state, [19] the start time. */
function statFields(pid: number): string[] | undefined {
  const stat = readOr(() => fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // The command name, in parentheses, may hold spaces; the fields after it are plain.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const startTime = (pid: number) => statFields(pid)?.[19];

let self: Holder | undefined;
const thisProcess = (): Holder =>
  (self ??= JSON.parse(
    JSON.stringify({
      pid: process.pid,
      host: hostname(),
      boot: readOr(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
      pidns: readOr(() => fs.readlinkSync('/proc/self/ns/pid')),
      start: startTime(process.pid),
    }),
  ) as Holder);

/**
 * Whether process `pid`, started at `start`, still runs on this host
 * (EPERM: it does, as another user). A zombie (Z, or X while it is reaped)
 * has exited: it answers kill(pid, 0) and keeps its start time until its
 * parent waits for it, which a parent that never waits (a container's PID 1
 * that is not an init) never does.
 */
function running(pid: unknown, start: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const fields = statFields(pid);
  if (fields?.[0] === 'Z' || fields?.[0] === 'X') return false;
  const now = fields?.[19];
  return start === undefined || now === undefined || now === start;
}

/**
 * The lock directory's holder entry when its holder is known to be gone
 * (`entry` undefined: a lock without one, from an older portico, gone by
 * its mtime), or undefined while the holder may still run. A stopped
 * process (Ctrl-Z, SIGSTOP) still runs: its lock is waited for, never taken.
 */
function abandoned(lock: string): { entry: string | undefined } | undefined {
  let entry: string | undefined;
  let idle: boolean;
  try {
    entry = fs.readdirSync(lock).find((name) => name.startsWith(HOLDER));
    idle = fs.statSync(lock).mtimeMs < Date.now() - STALE_MS;
  } catch {
    return undefined; // released meanwhile: the next attempt takes it
  }
  // Stryker disable next-line ObjectLiteral: { entry } has entry undefined here, which is what {} gives removeAbandoned
  if (entry === undefined) return idle ? { entry } : undefined;
  let holder: Partial<Holder>;
  try {
    holder = JSON.parse(fs.readFileSync(join(lock, entry), 'utf8')) as Partial<Holder>;
  } catch {
    return idle ? { entry } : undefined;
  }
  // Its pid means something here only when the holder ran on this host, in
  // this boot, in this pid namespace. A hostname alone is no host's identity
  // (two VMs named "ubuntu" on one NFS home), nor is the pid namespace (the
  // initial one has the same id on every Linux host); and a holder whose boot
  // id differs may be another machine's, not this one's before a reboot. All
  // of those are asked nothing: judged by the lock's mtime, which a lock left
  // from before a reboot passes at once.
  const me = thisProcess();
  if (holder.host !== me.host || holder.boot !== me.boot || holder.pidns !== me.pidns) return idle ? { entry } : undefined;
  return running(holder.pid, holder.start) ? undefined : { entry };
}

/**
 * Removes a lock whose holder is gone. Unlinking the holder's entry, by its
 * unique name, is the compare-and-set: of two waiters that judged the same
 * holder gone, one unlinks it and the other gets ENOENT; and a lock a new
 * holder has put in its place (its own entry) is never touched, since rmdir
 * removes only an empty directory.
 */
function removeAbandoned(lock: string, entry: string | undefined): boolean {
  try {
    if (entry !== undefined) fs.unlinkSync(join(lock, entry));
    fs.rmdirSync(lock);
    return true;
  } catch {
    return false;
  }
}

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * The file system proper-lockfile locks through: its lock directory is
 * created with the holder's entry already in it (built beside it, renamed
 * into place: rename(2) refuses a non-empty target), so no waiter ever sees
 * a lock without its holder; and released by removing the entry first.
 */
function lockingFs(entry: string) {
  const holder = () => JSON.stringify(thisProcess());
  return {
    ...fs,
    mkdir(lock: string, callback: Callback) {
      let staging: string;
      try {
        staging = fs.mkdtempSync(`${lock}.new-`);
        fs.writeFileSync(join(staging, entry), holder(), { mode: 0o600 });
      } catch (error) {
        // Nothing can be created beside the file (read-only, full, another owner's): neither can its replacement.
        return callback(error as NodeJS.ErrnoException);
      }
      try {
        // rename(2) replaces an empty directory: the lock of an older portico, which names no holder, would be taken over while it runs.
        // Stryker disable next-line StringLiteral,ObjectLiteral: the catch below answers EEXIST of its own whenever the lock exists; this error only takes it there
        if (fs.existsSync(lock)) throw Object.assign(new Error(`${lock} exists`), { code: 'EEXIST' });
        fs.renameSync(staging, lock);
        callback(null);
      } catch (error) {
        fs.rmSync(staging, { recursive: true, force: true });
        // ENOTEMPTY, EEXIST (Windows: EPERM): another holder's lock is there.
        callback(fs.existsSync(lock) ? Object.assign(new Error(`${lock} exists`), { code: 'EEXIST' }) : (error as NodeJS.ErrnoException));
      }
    },
    rmdir(lock: string, callback: Callback) {
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: the callback ignores rm's error, so an entry already gone is no different without force
      fs.rm(join(lock, entry), { force: true }, () =>
        fs.rmdir(lock, (error) => {
          // A lock that cannot be removed (its directory turned read-only) keeps naming its holder, so it is taken over as soon as this process is gone.
          if (error && error.code !== 'ENOENT' && error.code !== 'ENOTEMPTY')
            fs.writeFile(join(lock, entry), holder(), () => callback(error));
          else callback(error);
        }),
      );
    },
    rmdirSync(lock: string) {
      fs.rmSync(join(lock, entry), { force: true });
      fs.rmdirSync(lock);
    },
  };
}

/**
 * Takes `path`'s lock (`<path>.lock`, a directory beside the real file),
 * waiting while its holder runs, at most until `signal` aborts.
 */
async function acquire(
  path: string,
  slug: string,
  signal: AbortSignal,
  onCompromised: (error: Error) => void,
): Promise<() => Promise<void>> {
  const options = {
    stale: NEVER_STALE,
    update: HEARTBEAT_MS,
    fs: lockingFs(`${HOLDER}${randomBytes(12).toString('hex')}.json`),
    onCompromised,
  };
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await lockFile(path, options);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw notLoggedIn(path, slug);
      // Could not create the lock beside the file: the file cannot be replaced either.
      if (code !== 'ELOCKED') throw unwritable(path, error);
      const lock = `${readOr(() => fs.realpathSync(path)) ?? path}.lock`;
      const gone = abandoned(lock);
      if (gone && removeAbandoned(lock, gone.entry)) attempt = -1;
    }
    await sleep(Math.min(20 * 2 ** Math.max(attempt, 0), 250), signal);
  }
}

// The file's version is derived from its bytes: whatever a write changes (the
// rotated tokens, at least) changes it, and another process's write is seen
// without a counter of its own in the file.
const versionOf = (text: string) => createHash('sha256').update(text).digest().readUIntBE(0, 6) + 1;

interface Hold {
  store: TokensFileStore;
  lease: AbortController;
}

// Which store's lock the current async call chain holds: a write made under
// it needs no lock of its own (proper-lockfile's lock is not reentrant).
const holding = new AsyncLocalStorage<Hold>();

export class TokensFileStore implements TokenStore {
  readonly #path: string;
  readonly #initial: TokensFile;

  /** `initial`: the file as read at the start, whose other fields a write keeps if the file is gone by then. */
  constructor(path: string, initial: TokensFile) {
    this.#path = path;
    this.#initial = initial;
  }

  async get(): Promise<StoredTokens | undefined> {
    const loaded = loadTokensFile(this.#path, this.#initial.provider);
    return loaded && { tokens: loaded.content.tokens, version: versionOf(loaded.text) };
  }

  set(_key: string, tokens: Tokens, expected: number): Promise<number | undefined> {
    return this.#exclusive(async (hold) => {
      const loaded = loadTokensFile(this.#path, this.#initial.provider);
      if ((loaded ? versionOf(loaded.text) : 0) !== expected) return undefined;
      const content = { ...(loaded?.content ?? this.#initial), tokens };
      const text = tokensText(content);
      try {
        replaceFile(this.#path, text);
      } catch (error) {
        const failure = recoverTokens(this.#path, content, loaded?.text, error);
        // The new tokens are safe (or reported lost): a one-shot command
        // gains nothing from the session retrying the write until its
        // deadline, so the lease ends and the session gives up at once.
        hold?.lease.abort(failure);
        throw failure;
      }
      return versionOf(text);
    });
  }

  delete(_key: string, expected?: number): Promise<void> {
    return this.#exclusive(async () => {
      const loaded = loadTokensFile(this.#path, this.#initial.provider);
      if (loaded !== undefined && (expected === undefined || versionOf(loaded.text) === expected)) fs.rmSync(this.#path, { force: true });
    });
  }

  /**
   * Holds the file's lock while `fn` runs, after checking that the file can
   * be replaced: the session takes this lock before it spends a refresh
   * token, and a save that cannot happen must fail before that, not after.
   */
  async lock<T>(_key: string, fn: (lease: Lease) => Promise<T>, signal: AbortSignal = AbortSignal.timeout(LOCK_WAIT_MS)): Promise<T> {
    const lease = new AbortController();
    return this.#held(signal, lease, async () => {
      // Tokens a failed save left aside are the live ones: they replace the file before its stale refresh token could be spent.
      adoptRecovered(this.#path, this.#initial.provider);
      assertReplaceable(this.#path);
      return holding.run({ store: this, lease }, () => fn({ signal: lease.signal }));
    });
  }

  /** Runs `fn` under the lock: the one already held by this call chain, else a new one. */
  #exclusive<T>(fn: (hold: Hold | undefined) => Promise<T>): Promise<T> {
    const hold = holding.getStore();
    if (hold?.store === this && !hold.lease.signal.aborted) return fn(hold);
    return this.#held(AbortSignal.timeout(LOCK_WAIT_MS), new AbortController(), () => fn(undefined));
  }

  // `signal` bounds the wait and the hold: once it aborts, the lease ends,
  // the lock is released for the next holder and this call rejects, even if
  // `fn` never settles.
  async #held<T>(signal: AbortSignal, lease: AbortController, fn: () => Promise<T>): Promise<T> {
    const release = await acquire(this.#path, this.#initial.provider, signal, (error) => lease.abort(error));
    const end = () => lease.abort(signal.reason);
    try {
      signal.throwIfAborted();
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once, and the finally below removes the listener either way
      signal.addEventListener('abort', end, { once: true });
      return await abortable(fn(), signal);
    } finally {
      signal.removeEventListener('abort', end);
      // A lock that cannot be removed (its directory turned read-only) goes stale and is taken over.
      await release().catch(() => undefined);
    }
  }
}

/**
 * Before a call reads `path`: tokens a failed save left in its recovery
 * file replace it, under its lock, so the call starts from the live set.
 */
export async function adoptPendingRecovery(path: string, slug: string): Promise<void> {
  if (!hasRecovered(path)) return;
  let release: () => Promise<void>;
  try {
    release = await acquire(path, slug, AbortSignal.timeout(LOCK_WAIT_MS), () => {});
  } catch (error) {
    throw error instanceof CliError && error.code === 'tokens_file_unwritable' ? recoveryBlocked(path, error) : error;
  }
  try {
    adoptRecovered(path, slug);
  } finally {
    await release().catch(() => undefined);
  }
}
