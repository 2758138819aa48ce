// The tokens file as a TokenStore in-process, so that mutation testing sees
// which test covers which line (the CLI's own tests run it as a child
// process): compare-and-set on the file's text, the cross-process lock and
// who may take it over, what a failed save leaves, and the lease a one-shot
// command gives up when its tokens are not saved.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokens } from '@portico/auth';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rejectionOf } from '../../testing/src/util.js';
import type { CliError } from '../src/errors.js';
import { adoptPendingRecovery, TokensFileStore } from '../src/file-store.js';
import { hasRecovered, recoverTokens, type TokensFile, tokensText, writeTokensFile } from '../src/tokens-file.js';
import { freeze, thaw } from './helpers.js';

// Hooks into the file system calls the lock makes, to play a race another
// process would win, a failure, or an abort at a precise step.
const hooks = vi.hoisted(() => ({
  rename: undefined as ((from: string, to: string) => void) | undefined,
  mkdtemp: undefined as ((prefix: string) => void) | undefined,
  readdir: undefined as ((path: string) => void) | undefined,
  /** What /proc/<pid>/stat reads as for the pids it names (undefined: unreadable, as under hidepid). */
  procStat: undefined as Map<number, string | undefined> | undefined,
  /** No /proc at all, as on macOS. */
  noProc: false,
  /** Paths someone else removes just before this process does. */
  removedFirst: new Set<string>(),
}));
const noProc = (path: unknown) => {
  if (hooks.noProc && String(path).startsWith('/proc/')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
};
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    renameSync: (...args: Parameters<typeof fs.renameSync>) => {
      hooks.rename?.(String(args[0]), String(args[1]));
      fs.renameSync(...args);
    },
    mkdtempSync: (...args: Parameters<typeof fs.mkdtempSync>) => {
      hooks.mkdtemp?.(args[0]);
      return fs.mkdtempSync(...args);
    },
    readlinkSync: (...args: Parameters<typeof fs.readlinkSync>) => {
      noProc(args[0]);
      return fs.readlinkSync(...args);
    },
    rmSync: (...args: Parameters<typeof fs.rmSync>) => {
      if (hooks.removedFirst.delete(String(args[0]))) fs.rmSync(args[0]);
      fs.rmSync(...args);
    },
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      noProc(args[0]);
      const pid = Number(/^\/proc\/(\d+)\/stat$/.exec(String(args[0]))?.[1]);
      if (hooks.procStat?.has(pid)) {
        const stat = hooks.procStat.get(pid);
        if (stat === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return stat;
      }
      return fs.readFileSync(...args);
    },
    readdirSync: (...args: Parameters<typeof fs.readdirSync>) => {
      hooks.readdir?.(String(args[0]));
      return fs.readdirSync(...args);
    },
  };
});

const OLD: TokensFile = {
  provider: 'fdx',
  clientId: 'app',
  tokens: { accessToken: 'at-old-secret', tokenType: 'Bearer', refreshToken: 'rt-old-secret', raw: {} },
};
const NEW: Tokens = { accessToken: 'at-new-secret', tokenType: 'Bearer', refreshToken: 'rt-new-secret', raw: {} };
const KEY = 'fdx';

const sha256 = (text: string) => createHash('sha256').update(text).digest();
/** The version a store gives a file's text: never 0, the version of no file. */
const versionOf = (text: string) => sha256(text).readUIntBE(0, 6) + 1;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as TokensFile;
const codeOf = (error: unknown) => (error as CliError).code;

let root: string;
let work: string;
let path: string;
const frozen: string[] = [];
const frozenBy = (target: string) => {
  freeze(target);
  frozen.push(target);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'portico-store-unit-'));
  work = join(root, 'work');
  mkdirSync(join(root, 'tmp'));
  vi.stubEnv('XDG_CONFIG_HOME', join(root, 'xdg'));
  vi.stubEnv('TMPDIR', join(root, 'tmp'));
  path = join(work, 'fdx.json');
  writeTokensFile(path, OLD);
});

afterEach(() => {
  hooks.rename = hooks.mkdtemp = hooks.readdir = hooks.procStat = undefined;
  hooks.noProc = false;
  hooks.removedFirst.clear();
  for (const target of frozen.splice(0)) thaw(target);
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

/** What makes a holder's pid one of this machine's: its host, this boot, this pid namespace. */
const thisHost = () => ({
  host: hostname(),
  boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  pidns: readlinkSync('/proc/self/ns/pid'),
});
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

/** Lets real I/O run while fake timers stand still, until `done`; a loaded machine gets ten seconds. */
async function turnsUntil(done: () => boolean) {
  for (const deadline = performance.now() + 10_000; !done() && performance.now() < deadline; )
    await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

const store = (file = path) => new TokensFileStore(file, OLD);
const lockOf = (file = path) => `${file}.lock`;

describe('compare-and-set on the file', () => {
  it("gets the file's tokens with a version derived from its text, and nothing once it is gone", async () => {
    expect(await store().get()).toEqual({ tokens: OLD.tokens, version: versionOf(tokensText(OLD)) });
    rmSync(path);
    expect(await store().get()).toBeUndefined();
  });

  it('writes only over the version it was given, keeping the rest of the file', async () => {
    writeTokensFile(path, { ...OLD, authBaseUrl: 'https://bank.example' });
    const { version } = (await store().get())!;
    expect(await store().set(KEY, NEW, version + 1)).toBeUndefined();
    expect(readJson(path).tokens).toEqual(OLD.tokens);
    const written = await store().set(KEY, NEW, version);
    expect(readJson(path)).toEqual({ ...OLD, authBaseUrl: 'https://bank.example', tokens: NEW });
    expect(written).toBe((await store().get())!.version);
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('a file removed under the lock has version 0: the write recreates it from the file as first read', async () => {
    const s = store();
    const written = await s.lock(KEY, async () => {
      rmSync(path);
      expect(await s.set(KEY, NEW, versionOf(tokensText(OLD)))).toBeUndefined();
      return s.set(KEY, NEW, 0);
    });
    expect(written).toBe(versionOf(tokensText({ ...OLD, tokens: NEW })));
    expect(readJson(path)).toEqual({ ...OLD, tokens: NEW });
    expect(await s.set(KEY, OLD.tokens, 0)).toBeUndefined();
  });

  it('a write or delete without the file is not_logged_in: no lock can be taken on it', async () => {
    rmSync(path);
    expect(codeOf(await rejectionOf(store().set(KEY, NEW, 0)))).toBe('not_logged_in');
    expect(codeOf(await rejectionOf(store().delete(KEY)))).toBe('not_logged_in');
    expect(readdirSync(work)).toEqual([]);
  });

  it('deletes only the version it was given, or any version without one', async () => {
    const { version } = (await store().get())!;
    await store().delete(KEY, version + 1);
    expect(readJson(path)).toEqual(OLD);
    await store().delete(KEY, version);
    expect(await store().get()).toBeUndefined();
    writeTokensFile(path, OLD);
    await store().delete(KEY);
    expect(await store().get()).toBeUndefined();
    expect(readdirSync(work)).toEqual([]);
  });

  it('rotated tokens that cannot replace the file go to its recovery file, and the error says where', async () => {
    const { version } = (await store().get())!;
    frozenBy(path);
    const error = (await rejectionOf(store().set(KEY, NEW, version))) as CliError;
    expect(error.code).toBe('tokens_not_saved');
    const [file] = readdirSync(join(root, 'xdg', 'portico', 'recovered'));
    expect(error.message).toContain(join(root, 'xdg', 'portico', 'recovered', file!));
    expect(readJson(join(root, 'xdg', 'portico', 'recovered', file!))).toEqual({
      ...OLD,
      tokens: NEW,
      replaces: sha256(tokensText(OLD)).toString('hex'),
    });
    expect(readJson(path)).toEqual(OLD);
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });
});

describe('the lock', () => {
  it('holds <file>.lock naming this process while fn runs, and removes it after', async () => {
    const seen = await store().lock(KEY, async (lease) => {
      expect(lease.signal.aborted).toBe(false);
      const entries = readdirSync(lockOf());
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatch(/^holder-[0-9a-f]{24}\.json$/);
      expect(statSync(join(lockOf(), entries[0]!)).mode & 0o777).toBe(0o600);
      return JSON.parse(readFileSync(join(lockOf(), entries[0]!), 'utf8')) as Record<string, unknown>;
    });
    expect(seen).toMatchObject({ pid: process.pid, host: hostname(), start: expect.any(String) });
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('a write under the lock uses the lock it is under (the lock is not reentrant: it would wait for itself)', async () => {
    const s = store();
    await s.lock(
      KEY,
      async () => {
        const { version } = (await s.get())!;
        expect(await s.set(KEY, NEW, version)).toBeDefined();
        await s.delete(KEY, (await s.get())!.version);
      },
      AbortSignal.timeout(10_000),
    );
    expect(await s.get()).toBeUndefined();
  });

  it('another holder waits for the lock until it is released, within its signal', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = store().lock(KEY, async () => {
      order.push('first');
      await held;
      order.push('first done');
    });
    await vi.waitFor(() => expect(order).toEqual(['first']), { timeout: 10_000 });
    const refused = vi.fn();
    const error = await rejectionOf(store().lock(KEY, refused, AbortSignal.timeout(300)));
    expect((error as Error).name).toBe('TimeoutError');
    expect(refused).not.toHaveBeenCalled();
    const second = store().lock(KEY, async () => void order.push('second'), AbortSignal.timeout(10_000));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'first done', 'second']);
    // The losing attempts left no staging directory of theirs beside the file.
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('an aborted signal ends the hold: the lease aborts, the call rejects and the lock goes, even if fn never settles', async () => {
    const controller = new AbortController();
    let lease: AbortSignal | undefined;
    const held = store().lock(
      KEY,
      (l) => {
        lease = l.signal;
        return new Promise(() => {});
      },
      controller.signal,
    );
    await vi.waitFor(() => expect(lease).toBeDefined(), { timeout: 10_000 });
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejectionOf(held)).toBe(reason);
    expect(lease!.aborted).toBe(true);
    expect(lease!.reason).toBe(reason);
    expect(readdirSync(work)).toEqual(['fdx.json']);
    const fn = vi.fn();
    expect(await rejectionOf(store().lock(KEY, fn, controller.signal))).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a save that fails under the lock ends the lease with its error: the session gives up at once', async () => {
    const s = store();
    let lease: AbortSignal | undefined;
    const error = await rejectionOf(
      s.lock(KEY, async (l) => {
        lease = l.signal;
        frozenBy(path);
        await s.set(KEY, NEW, (await s.get())!.version);
      }),
    );
    expect(codeOf(error)).toBe('tokens_not_saved');
    expect(lease!.reason).toBe(error);
    expect(hasRecovered(path)).toBe(true);
  });

  it('after the lease has ended, a write takes the lock anew', async () => {
    const s = store();
    const controller = new AbortController();
    let pending: Promise<number | undefined> | undefined;
    await rejectionOf(
      s.lock(
        KEY,
        async () => {
          const { version } = (await s.get())!;
          controller.abort(new Error('lease over'));
          pending = s.set(KEY, NEW, version);
          await pending;
        },
        controller.signal,
      ),
    );
    expect(await pending).toBeDefined();
    expect(readJson(path).tokens).toEqual(NEW);
  });

  it('on a system without /proc (macOS) a holder names its pid and host only', async () => {
    hooks.noProc = true;
    // The holder's identity is read once per process: a fresh module reads it without /proc.
    vi.resetModules();
    const { TokensFileStore: Fresh } = await import('../src/file-store.js');
    const holder = await new Fresh(path, OLD).lock(KEY, async () => {
      const [entry] = readdirSync(lockOf());
      return JSON.parse(readFileSync(join(lockOf(), entry!), 'utf8')) as unknown;
    });
    expect(holder).toEqual({ pid: process.pid, host: hostname() });
  });

  it('an aborted signal takes no lock at all, whatever the file', async () => {
    const reason = new Error('gave up');
    let attempts = 0;
    hooks.mkdtemp = (prefix) => {
      if (prefix.startsWith(lockOf())) attempts++;
    };
    expect(await rejectionOf(store().lock(KEY, vi.fn(), AbortSignal.abort(reason)))).toBe(reason);
    expect(attempts).toBe(0);
    rmSync(path);
    expect(await rejectionOf(store().lock(KEY, vi.fn(), AbortSignal.abort(reason)))).toBe(reason);
  });

  it("a lease that ended with its call is not aborted later by the caller's signal", async () => {
    const controller = new AbortController();
    const lease = await store().lock(KEY, async (l) => l.signal, controller.signal);
    controller.abort(new Error('later'));
    expect(lease.aborted).toBe(false);
  });

  it('tokens for a file removed under the lock that cannot be written again go to a recovery file replacing nothing', async () => {
    const s = store();
    const error = await rejectionOf(
      s.lock(KEY, async () => {
        rmSync(path);
        frozenBy(work);
        await s.set(KEY, NEW, 0);
      }),
    );
    expect(codeOf(error)).toBe('tokens_not_saved');
    const recovered = join(root, 'xdg', 'portico', 'recovered');
    const [file] = readdirSync(recovered);
    expect(readJson(join(recovered, file!))).toEqual({ ...OLD, tokens: NEW });
  });

  it('a delete finding the file already removed, before it or while it holds the lock, is no error', async () => {
    const s = store();
    const { version } = (await s.get())!;
    await s.lock(KEY, async () => {
      rmSync(path);
      await s.delete(KEY, version);
      writeTokensFile(path, OLD);
      hooks.removedFirst.add(path);
      await s.delete(KEY, version);
    });
    expect(readdirSync(work)).toEqual([]);
  });

  it("another store's hold is not this one's: its write waits for the lock", async () => {
    const other = store();
    let write: Promise<number | undefined> | undefined;
    let written = false;
    await store().lock(KEY, async () => {
      write = other.set(KEY, NEW, (await other.get())!.version);
      write.then(() => (written = true));
      // Long enough for a write that took no lock to be done.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(written).toBe(false);
    });
    expect(await write).toBeDefined();
    expect(readJson(path).tokens).toEqual(NEW);
  });

  it('a signal that aborts while the lock is being taken releases it, and fn never runs', async () => {
    const controller = new AbortController();
    const reason = new Error('gave up');
    hooks.mkdtemp = (prefix) => {
      if (prefix.startsWith(lockOf())) controller.abort(reason);
    };
    const fn = vi.fn();
    expect(await rejectionOf(store().lock(KEY, fn, controller.signal))).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('refreshes the lock every five seconds, and a lock found changed ends the lease', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const code = await store().lock(
      KEY,
      async (lease) => {
        // Another process took the lock over (it judged this one gone): its mtime is no longer this holder's.
        utimesSync(lockOf(), 0, 0);
        await vi.advanceTimersByTimeAsync(4999);
        expect(lease.signal.aborted).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        await turnsUntil(() => lease.signal.aborted);
        return (lease.signal.reason as NodeJS.ErrnoException).code;
      },
      AbortSignal.timeout(10_000),
    );
    expect(code).toBe('ECOMPROMISED');
  });

  it('a lock another process put in place first, between the check and the rename, is waited for', async () => {
    hooks.rename = (_, to) => {
      if (to !== lockOf()) return;
      hooks.rename = undefined;
      mkdirSync(lockOf());
      writeFileSync(join(lockOf(), 'holder-other.json'), JSON.stringify({ ...thisHost(), pid: process.pid, start: startOf(process.pid) }));
    };
    const error = await rejectionOf(store().lock(KEY, vi.fn(), AbortSignal.timeout(300)));
    expect((error as Error).name).toBe('TimeoutError');
    expect(readdirSync(work).sort()).toEqual(['fdx.json', 'fdx.json.lock']);
  });

  it('a lock that cannot be put in place is tokens_file_unwritable, and its staging directory goes', async () => {
    hooks.rename = (_, to) => {
      if (to === lockOf()) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    const error = (await rejectionOf(store().lock(KEY, vi.fn(), AbortSignal.timeout(10_000)))) as CliError;
    expect(error.code).toBe('tokens_file_unwritable');
    expect(error.message).toContain('(EACCES)');
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('refuses, before fn runs, a file that is gone or cannot be replaced, and releases the lock', async () => {
    const fn = vi.fn();
    rmSync(path);
    expect(codeOf(await rejectionOf(store().lock(KEY, fn)))).toBe('not_logged_in');
    writeTokensFile(path, OLD);
    frozenBy(path);
    expect(codeOf(await rejectionOf(store().lock(KEY, fn)))).toBe('tokens_file_unwritable');
    expect(readdirSync(work)).toEqual(['fdx.json']);
    thaw(path);
    frozenBy(work);
    // Not even the lock can be made beside it.
    expect(codeOf(await rejectionOf(store().lock(KEY, fn)))).toBe('tokens_file_unwritable');
    expect(fn).not.toHaveBeenCalled();
  });

  it('adopts tokens a failed save left aside before fn runs', async () => {
    recoverTokens(path, { ...OLD, tokens: NEW }, tokensText(OLD), new Error('EPERM'));
    const tokens = await store().lock(KEY, async () => readJson(path).tokens);
    expect(tokens).toEqual(NEW);
    expect(hasRecovered(path)).toBe(false);
  });

  it('releasing a lock directory that holds something else removes only its own entry', async () => {
    await store().lock(KEY, async () => writeFileSync(join(lockOf(), 'other'), ''));
    expect(readdirSync(lockOf())).toEqual(['other']);
  });

  it('a lock held when the process exits is removed by the exit handler, its holder entry first, or without one', async () => {
    // proper-lockfile removes the locks a process holds from a signal-exit handler; it is called here without exiting.
    const emitter = (process as unknown as { __signal_exit_emitter__: EventEmitter }).__signal_exit_emitter__;
    const handlers = emitter.listeners('exit').filter((listener) => String(listener).includes('rmdirSync'));
    expect(handlers).toHaveLength(1);
    const onExit = handlers[0] as () => void;
    await store().lock(KEY, async () => {
      onExit();
      expect(readdirSync(work)).toEqual(['fdx.json']);
    });
    await store().lock(KEY, async () => {
      rmSync(join(lockOf(), readdirSync(lockOf())[0]!));
      onExit();
      expect(readdirSync(work)).toEqual(['fdx.json']);
    });
  });

  it('a lock that cannot be removed keeps naming its holder, and the call still succeeds', async () => {
    expect(
      await store().lock(KEY, async () => {
        frozenBy(work);
        return 'done';
      }),
    ).toBe('done');
    const entries = readdirSync(lockOf());
    expect(entries).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(lockOf(), entries[0]!), 'utf8'))).toMatchObject({ pid: process.pid });
  });
});

describe('who may take over a lock', () => {
  const here = thisHost();
  const deadPid = () => spawnSync('true').pid;
  const ENTRY = 'holder-left.json';

  /** A lock at `<file>.lock` as a holder left it, last refreshed at `mtime` (seconds). */
  function leftLock(entry: unknown, mtime = Date.now() / 1000, file = path) {
    mkdirSync(lockOf(file));
    if (entry !== undefined) writeFileSync(join(lockOf(file), ENTRY), typeof entry === 'string' ? entry : JSON.stringify(entry));
    utimesSync(lockOf(file), mtime, mtime);
  }

  const takenOver = async (file = path) => {
    const entries = await store(file).lock(KEY, async () => readdirSync(lockOf()), AbortSignal.timeout(10_000));
    expect(entries).toHaveLength(1);
    expect(entries[0]).not.toBe(ENTRY);
  };
  const waitedFor = async () => {
    const fn = vi.fn();
    const error = await rejectionOf(store().lock(KEY, fn, AbortSignal.timeout(300)));
    expect((error as Error).name).toBe('TimeoutError');
    expect(fn).not.toHaveBeenCalled();
    expect(readdirSync(lockOf())).toContain(ENTRY);
  };

  it("takes a lock whose holder on this host has exited, or whose pid is another process's now", async () => {
    leftLock({ ...here, pid: deadPid() });
    await takenOver();
    leftLock({ ...here, pid: process.pid, start: '1' });
    await takenOver();
  });

  it('waits for a holder on this host that still runs, even as another user', async () => {
    leftLock({ ...here, pid: process.pid, start: startOf(process.pid) });
    await waitedFor();
    rmSync(lockOf(), { recursive: true });
    leftLock({ ...here, pid: process.pid });
    await waitedFor();
    rmSync(lockOf(), { recursive: true });
    const kill = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      if (pid === process.pid && signal === 0) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      return kill(pid, signal);
    });
    leftLock({ ...here, pid: process.pid, start: startOf(process.pid) });
    await waitedFor();
  });

  it('takes a lock whose holder is a zombie: it has exited, though its pid answers', async () => {
    // The shell's background child exits at once; the process exec'd in the shell's place never waits for it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) =>
        parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString()))),
      );
      await vi.waitFor(() => expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /), { timeout: 10_000 });
      leftLock({ ...here, pid: zombie, start: startOf(zombie) });
      await takenOver();
    } finally {
      parent.kill();
    }
  });

  it('takes a lock whose holder is dead and being reaped (state X)', async () => {
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    hooks.procStat = new Map([[process.pid, `${stat.slice(0, stat.lastIndexOf(')') + 2)}X ${fields.slice(1).join(' ')}`]]);
    leftLock({ ...here, pid: process.pid, start: fields[19] });
    await takenOver();
  });

  it("waits for another user's holder whose /proc entry this user cannot read (hidepid)", async () => {
    const kill = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      if (pid === 4_000_000 && signal === 0) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      return kill(pid, signal);
    });
    hooks.procStat = new Map([[4_000_000, undefined]]);
    leftLock({ ...here, pid: 4_000_000, start: '12345' });
    await waitedFor();
  });

  it('takes a lock whose holder entry has no usable pid', async () => {
    for (const pid of [0, -1, 1.5, String(process.pid), undefined]) {
      leftLock({ ...here, pid });
      await takenOver();
    }
  });

  it("judges a holder of another host, boot or pid namespace by the lock's mtime alone: waits while fresh, takes it once stale", async () => {
    for (const other of [{ host: 'elsewhere' }, { boot: 'another-boot' }, { pidns: 'pid:[1]' }]) {
      leftLock({ ...here, ...other, pid: deadPid() });
      await waitedFor();
      utimesSync(lockOf(), 0, 0);
      await takenOver();
    }
  });

  it('judges a lock with an unreadable holder entry by its mtime', async () => {
    leftLock('{"pid": ');
    await waitedFor();
    utimesSync(lockOf(), 0, 0);
    await takenOver();
  });

  it('waits for a fresh lock without a holder entry (an older portico holds it), never renaming over it', async () => {
    leftLock(undefined);
    const fn = vi.fn();
    expect(((await rejectionOf(store().lock(KEY, fn, AbortSignal.timeout(300)))) as Error).name).toBe('TimeoutError');
    expect(fn).not.toHaveBeenCalled();
    expect(readdirSync(lockOf())).toEqual([]);
    utimesSync(lockOf(), 0, 0);
    await takenOver();
  });

  it('a lock last refreshed exactly ten seconds ago is not stale yet', async () => {
    const mtime = Math.floor(Date.now() / 1000) - 60;
    leftLock({ host: 'elsewhere', pid: 1 }, mtime);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(mtime * 1000 + 10_000);
    await waitedFor();
    vi.setSystemTime(mtime * 1000 + 10_001);
    await takenOver();
  });

  /** Counts the lock's attempts (each reads its directory) while fake timers stand still between them. */
  function pollAttempts() {
    let attempts = 0;
    hooks.readdir = (dir) => {
      if (dir === lockOf()) attempts++;
    };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Until its sleep ends, an attempt has one timer pending and has not started.
    const waiting = (before: number) => expect([attempts, vi.getTimerCount()]).toEqual([before, 1]);
    return {
      attempts: () => attempts,
      waiting,
      started: () => turnsUntil(() => attempts === 1 && vi.getTimerCount() === 1),
      /** Ends a sleep of `delay` ms, not a millisecond early, and waits for the attempt after it. */
      async next(delay: number) {
        const before = attempts;
        await vi.advanceTimersByTimeAsync(delay - 1);
        waiting(before);
        await vi.advanceTimersByTimeAsync(1);
        await turnsUntil(() => attempts === before + 1 && vi.getTimerCount() === 1);
      },
    };
  }

  it('polls a held lock at 20 ms, doubling to at most 250 ms, and again at 20 ms once it took over an abandoned one', async () => {
    leftLock({ ...here, pid: process.pid, start: startOf(process.pid) });
    const poll = pollAttempts();
    let ran = false;
    const held = store().lock(KEY, async () => void (ran = true), AbortSignal.timeout(10_000));
    await poll.started();
    for (const delay of [20, 40, 80, 160, 250, 250]) await poll.next(delay);
    // Its holder exits: the next attempt removes the lock and the one after takes it without the long wait.
    writeFileSync(join(lockOf(), ENTRY), JSON.stringify({ ...here, pid: deadPid() }));
    await vi.advanceTimersByTimeAsync(250);
    await turnsUntil(() => !readdirSync(work).includes('fdx.json.lock') && vi.getTimerCount() === 1);
    await vi.advanceTimersByTimeAsync(19);
    poll.waiting(poll.attempts());
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await turnsUntil(() => ran);
    await held;
  });

  it('a lock it could not remove does not restart the poll at 20 ms', async () => {
    leftLock({ ...here, pid: deadPid() });
    // Something of another's in the lock directory: the holder's entry goes, the directory stays.
    writeFileSync(join(lockOf(), 'other'), '');
    const poll = pollAttempts();
    const controller = new AbortController();
    const held = store().lock(KEY, vi.fn(), controller.signal);
    await poll.started();
    expect(readdirSync(lockOf())).toEqual(['other']);
    await poll.next(20);
    await poll.next(40);
    controller.abort(new Error('done'));
    await rejectionOf(held);
  });

  it('finds the lock beside the real file when the tokens file is a symlink', async () => {
    const link = join(root, 'link.json');
    symlinkSync(path, link);
    leftLock({ ...here, pid: deadPid() });
    await takenOver(link);
  });
});

describe('adoptPendingRecovery', () => {
  it('does nothing, and takes no lock, without a recovery file', async () => {
    await adoptPendingRecovery(join(work, 'none.json'), 'fdx');
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it("moves a recovery file's tokens over the file under its lock", async () => {
    recoverTokens(path, { ...OLD, tokens: NEW }, tokensText(OLD), new Error('EPERM'));
    await adoptPendingRecovery(path, 'fdx');
    expect(readJson(path).tokens).toEqual(NEW);
    expect(hasRecovered(path)).toBe(false);
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });

  it('names the recovery file when not even the lock can be taken, and passes other errors on', async () => {
    recoverTokens(path, { ...OLD, tokens: NEW }, tokensText(OLD), new Error('EPERM'));
    frozenBy(work);
    const blocked = (await rejectionOf(adoptPendingRecovery(path, 'fdx'))) as CliError;
    expect(blocked.code).toBe('tokens_pending_recovery');
    expect(codeOf(blocked.cause)).toBe('tokens_file_unwritable');
    thaw(work);
    frozen.pop();
    rmSync(path);
    expect(codeOf(await rejectionOf(adoptPendingRecovery(path, 'fdx')))).toBe('not_logged_in');
    expect(hasRecovered(path)).toBe(true);
  });

  it('releases the lock when the recovery file cannot be adopted', async () => {
    recoverTokens(path, { ...OLD, tokens: NEW }, 'another text', new Error('EPERM'));
    expect(codeOf(await rejectionOf(adoptPendingRecovery(path, 'fdx')))).toBe('tokens_pending_recovery');
    expect(readdirSync(work)).toEqual(['fdx.json']);
  });
});
