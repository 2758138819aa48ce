// The tokens file and its recovery files in-process, so that mutation
// testing sees which test covers which line (the CLI's own tests run it as a
// child process): atomic owner-only replacement, the check made before a
// refresh token is spent, where rotated tokens that could not be saved go and
// how the next call adopts them, and that no error ever shows a token.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { thrownBy } from '../../testing/src/util.js';
import { CliError } from '../src/errors.js';
import {
  adoptRecovered,
  assertReplaceable,
  discardRecovered,
  hasRecovered,
  inConfigDir,
  loadTokensFile,
  readTokensFile,
  recoverTokens,
  recoveryBlocked,
  replaceFile,
  type TokensFile,
  tokensText,
  unwritable,
  writeTokensFile,
} from '../src/tokens-file.js';
import { freeze, thaw } from './helpers.js';

// The temporary name of a replacement is random; one test pins it to show
// that a file planted under that name is never written through.
const random = vi.hoisted(() => ({ fixed: undefined as Buffer | undefined }));
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, randomBytes: (size: number) => random.fixed ?? original.randomBytes(size) };
});

// Another process (a login that drops the recovery file) acting between two
// steps of this one: between the check that a file exists and its use.
const race = vi.hoisted(() => ({
  /** Paths that exist when asked, gone when used. */
  vanishing: new Set<string>(),
  /** Paths removed right after they are read. */
  removedOnRead: new Set<string>(),
}));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    existsSync: (path: string) => race.vanishing.has(path) || fs.existsSync(path),
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      const text = fs.readFileSync(...args);
      if (race.removedOnRead.delete(String(args[0]))) fs.rmSync(String(args[0]));
      return text;
    },
  };
});

const SECRETS = ['at-old-secret', 'rt-old-secret', 'at-new-secret', 'rt-new-secret'];
const OLD: TokensFile = {
  provider: 'fdx',
  clientId: 'app',
  authBaseUrl: 'https://bank.example',
  tokens: { accessToken: 'at-old-secret', tokenType: 'Bearer', refreshToken: 'rt-old-secret', raw: {} },
};
const NEW: TokensFile = {
  provider: 'fdx',
  clientId: 'app-recovered',
  authBaseUrl: 'https://recovered.example',
  tokens: { accessToken: 'at-new-secret', tokenType: 'Bearer', refreshToken: 'rt-new-secret', raw: {} },
};

const uid = process.getuid!();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const modeOf = (path: string) => statSync(path).mode & 0o777;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as TokensFile;
const errorOf = (fn: () => unknown) => {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
};
const expectNoSecret = (text: string) => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

let root: string;
let config: string;
let temporary: string;
let work: string;
const frozen: string[] = [];
const frozenBy = (path: string) => {
  freeze(path);
  frozen.push(path);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'portico-tokens-unit-'));
  config = join(root, 'xdg', 'portico');
  temporary = join(root, 'tmp');
  work = join(root, 'work');
  mkdirSync(temporary);
  mkdirSync(work);
  vi.stubEnv('XDG_CONFIG_HOME', join(root, 'xdg'));
  vi.stubEnv('TMPDIR', temporary);
});

afterEach(() => {
  race.vanishing.clear();
  race.removedOnRead.clear();
  for (const path of frozen.splice(0)) thaw(path);
  vi.unstubAllEnvs();
  random.fixed = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** The tokens file of `content` in a directory of its own. */
function tokensFile(content: TokensFile = OLD, directory = work): string {
  const path = join(directory, 'fdx.json');
  writeTokensFile(path, content);
  return path;
}

const recoveryName = (path: string) => `${sha256(realpathSync(path))}.json`;
const eperm = Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });

describe('replaceFile', () => {
  it('replaces the file by renaming a new owner-only one over it: a link to the old file keeps the old text', () => {
    const path = join(work, 'fdx.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    linkSync(path, join(work, 'old-link'));
    replaceFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(modeOf(path)).toBe(0o600);
    expect(readFileSync(join(work, 'old-link'), 'utf8')).toBe('old');
    expect(readdirSync(work).sort()).toEqual(['fdx.json', 'old-link']);
  });

  it('creates missing directories owner-only and leaves a directory the user chose as it is', () => {
    replaceFile(join(work, 'a', 'b', 'fdx.json'), 'x');
    expect(modeOf(join(work, 'a'))).toBe(0o700);
    expect(modeOf(join(work, 'a', 'b'))).toBe(0o700);
    const shared = join(work, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    replaceFile(join(shared, 'fdx.json'), 'x');
    expect(modeOf(shared)).toBe(0o755);
  });

  it('never writes through a file planted under its temporary name, and leaves nothing behind when it fails', () => {
    random.fixed = Buffer.from('000000000000', 'hex');
    const path = join(work, 'fdx.json');
    writeFileSync(join(root, 'victim'), 'untouched');
    symlinkSync(join(root, 'victim'), `${path}.000000000000.tmp`);
    expect((thrownBy(() => replaceFile(path, 'secret')) as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('untouched');
    random.fixed = undefined;
    // A directory where the file should be: the rename fails after the temporary file was written.
    mkdirSync(join(work, 'dir.json', 'inside'), { recursive: true });
    expect((thrownBy(() => replaceFile(join(work, 'dir.json'), 'secret')) as NodeJS.ErrnoException).code).toMatch(/^E/);
    expect(readdirSync(work)).toEqual(['dir.json']);
  });

  it('leaves a config directory that is already owner-only as it is, special bits included', () => {
    mkdirSync(config, { recursive: true });
    chmodSync(config, 0o2700);
    replaceFile(join(config, 'fdx.json'), 'x');
    expect(statSync(config).mode & 0o7777).toBe(0o2700);
  });

  it('writes the content as indented JSON ending in a line break', () => {
    expect(tokensText(OLD)).toBe(`${JSON.stringify(OLD, null, 2)}\n`);
  });
});

describe('writeTokensFile and assertReplaceable', () => {
  it('a save that fails is tokens_file_unwritable naming the file, the reason and the fix, never a token', () => {
    const path = tokensFile();
    frozenBy(work);
    const error = errorOf(() => writeTokensFile(path, NEW));
    expect(error.code).toBe('tokens_file_unwritable');
    expect(error.message).toBe(
      `cannot replace ${path} (EPERM); portico only spends a refresh token where it can save the new one: make ${work} writable, or copy the file somewhere writable and pass --tokens`,
    );
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EPERM');
    expect(readJson(path)).toEqual(OLD);
  });

  it('an error without an errno code is named "error"', () => {
    expect(unwritable('/x/fdx.json', new Error('boom')).message).toContain('(error)');
  });

  it('rewrites a replaceable file with its own text, owner-only', () => {
    const path = join(work, 'fdx.json');
    writeFileSync(path, tokensText(OLD), { mode: 0o644 });
    const before = statSync(path).ino;
    assertReplaceable(path);
    expect(readFileSync(path, 'utf8')).toBe(tokensText(OLD));
    expect(statSync(path).ino).not.toBe(before);
    expect(modeOf(path)).toBe(0o600);
  });

  it('refuses, before a refresh, a file that can be read but not replaced, and one that is gone', () => {
    const path = tokensFile();
    frozenBy(work);
    const refused = errorOf(() => assertReplaceable(path));
    expect(refused.code).toBe('tokens_file_unwritable');
    expect(refused.message).toContain('(EPERM)');
    expectNoSecret(refused.message);
    const gone = errorOf(() => assertReplaceable(join(root, 'none.json')));
    expect(gone.code).toBe('tokens_file_unwritable');
    expect(gone.message).toContain('(ENOENT)');
  });
});

describe('recoverTokens', () => {
  it("saves rotated tokens owner-only in the config directory's recovered/, marked with the text they replace", () => {
    const path = tokensFile();
    const error = recoverTokens(path, NEW, tokensText(OLD), eperm);
    const recovered = join(config, 'recovered');
    const file = join(recovered, recoveryName(path));
    expect(error.code).toBe('tokens_not_saved');
    expect(error.cause).toBe(eperm);
    expect(error.message).toBe(
      `cannot replace ${path} (EPERM) after its refresh token was spent; the new tokens are in ${file}: run the command again once ${work} can be written (portico moves them over ${path} before anything else), or move that file to ${path}, or pass --tokens ${file}`,
    );
    expect(readJson(file)).toEqual({ ...NEW, replaces: sha256(tokensText(OLD)) });
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(recovered)).toBe(0o700);
    expect(readdirSync(recovered)).toEqual([recoveryName(path)]);
    expect(hasRecovered(path)).toBe(true);
  });

  it('a file that was never there is replaced by nothing: no replaces mark', () => {
    const path = join(work, 'fdx.json');
    recoverTokens(path, NEW, undefined, eperm);
    expect(readJson(join(config, 'recovered', `${sha256(path)}.json`))).toEqual(NEW);
  });

  it('leaves a recovery directory that is already owner-only as it is, special bits included', () => {
    mkdirSync(join(config, 'recovered'), { recursive: true });
    chmodSync(join(config, 'recovered'), 0o2700);
    recoverTokens(tokensFile(), NEW, undefined, eperm);
    expect(statSync(join(config, 'recovered')).mode & 0o7777).toBe(0o2700);
  });

  it('looking for recovery files creates nothing', () => {
    const path = tokensFile();
    mkdirSync(join(temporary, `portico-${uid}-abc`), { mode: 0o755 });
    expect(hasRecovered(path)).toBe(false);
    discardRecovered(path);
    expect(readdirSync(root).sort()).toEqual(['tmp', 'work']);
    expect(readdirSync(temporary)).toEqual([`portico-${uid}-abc`]);
    expect(readdirSync(join(temporary, `portico-${uid}-abc`))).toEqual([]);
    expect(modeOf(join(temporary, `portico-${uid}-abc`))).toBe(0o755);
    // Nor changes the mode of one it finds: only a directory created for a recovery file is closed.
    mkdirSync(join(config, 'recovered'), { recursive: true, mode: 0o755 });
    expect(hasRecovered(path)).toBe(false);
    expect(modeOf(join(config, 'recovered'))).toBe(0o755);
  });

  it('without uids (Windows) nothing is chmodded or checked for an owner, and the temporary directory is portico-user', () => {
    const getuid = process.getuid;
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    vi.stubEnv('APPDATA', join(root, 'appdata'));
    try {
      Object.defineProperty(process, 'platform', { value: 'win32' });
      process.getuid = undefined;
      const path = tokensFile();
      const recovered = join(root, 'appdata', 'portico', 'recovered');
      mkdirSync(recovered, { recursive: true, mode: 0o755 });
      chownSync(recovered, 4242, 4242);
      expect(recoverTokens(path, NEW, undefined, eperm).message).toContain(join(recovered, recoveryName(path)));
      expect(modeOf(recovered)).toBe(0o755);
      rmSync(join(root, 'appdata'), { recursive: true });
      writeFileSync(join(root, 'appdata'), 'not a directory');
      expect(recoverTokens(path, NEW, undefined, eperm).message).toContain(join(temporary, 'portico-user', 'recovered'));
      expect(hasRecovered(path)).toBe(true);
    } finally {
      process.getuid = getuid;
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('a login dropping the recovery file between the check and its removal or use is no error', () => {
    const path = tokensFile();
    const file = join(config, 'recovered', recoveryName(path));
    mkdirSync(join(config, 'recovered'), { recursive: true, mode: 0o700 });
    race.vanishing.add(file);
    expect(() => discardRecovered(path)).not.toThrow();
    adoptRecovered(path, 'fdx');
    expect(readJson(path)).toEqual(OLD);
    race.vanishing.clear();
    recoverTokens(path, NEW, tokensText(OLD), eperm);
    race.removedOnRead.add(file);
    adoptRecovered(path, 'fdx');
    expect(readJson(path).tokens).toEqual(NEW.tokens);
  });

  it('never writes through a file planted under its temporary name: that place is skipped', () => {
    const path = tokensFile();
    random.fixed = Buffer.from('000000000000', 'hex');
    const file = join(config, 'recovered', recoveryName(path));
    mkdirSync(join(config, 'recovered'), { recursive: true });
    writeFileSync(join(root, 'victim'), 'untouched');
    symlinkSync(join(root, 'victim'), `${file}.000000000000.tmp`);
    expect(recoverTokens(path, NEW, undefined, eperm).message).toContain(join(temporary, `portico-${uid}`, 'recovered'));
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('untouched');
  });

  it('a recovered/ directory that cannot be written is skipped', () => {
    const path = tokensFile();
    mkdirSync(join(config, 'recovered'), { recursive: true, mode: 0o700 });
    frozenBy(join(config, 'recovered'));
    expect(recoverTokens(path, NEW, undefined, eperm).message).toContain(join(temporary, `portico-${uid}`, 'recovered'));
  });

  it('closes a recovered/ directory left open to others', () => {
    mkdirSync(join(config, 'recovered'), { recursive: true, mode: 0o755 });
    recoverTokens(tokensFile(), NEW, undefined, eperm);
    expect(modeOf(join(config, 'recovered'))).toBe(0o700);
  });

  it("falls back to $TMPDIR/portico-<uid>/recovered when the config directory cannot hold it, and says which server's tokens they are", () => {
    const path = tokensFile();
    mkdirSync(join(root, 'xdg'));
    writeFileSync(config, 'not a directory');
    mkdirSync(join(temporary, `portico-${uid}`), { mode: 0o755 });
    const error = recoverTokens(path, NEW, undefined, eperm);
    const file = join(temporary, `portico-${uid}`, 'recovered', recoveryName(path));
    expect(error.code).toBe('tokens_not_saved');
    expect(error.message).toContain(`the new tokens are in ${file}:`);
    expect(error.message).toMatch(new RegExp(`or pass --tokens ${file} --auth-url https://recovered\\.example$`));
    expect(modeOf(join(temporary, `portico-${uid}`))).toBe(0o700);
    expect(modeOf(join(temporary, `portico-${uid}`, 'recovered'))).toBe(0o700);
    expect(readJson(file)).toEqual(NEW);
    expect(hasRecovered(path)).toBe(true);
    // Tokens whose file names no server need none named.
    const { authBaseUrl: _, ...serverless } = NEW;
    expect(recoverTokens(path, serverless, undefined, eperm).message).toMatch(new RegExp(`or pass --tokens ${file}$`));
  });

  it('the config directory itself is not a file in it', () => {
    expect(inConfigDir(config)).toBe(false);
    expect(inConfigDir(join(config, 'fdx.json'))).toBe(true);
  });

  it('removes its temporary file when the rename fails, and tries the next place', () => {
    const path = tokensFile();
    mkdirSync(join(config, 'recovered', recoveryName(path), 'occupied'), { recursive: true });
    const error = recoverTokens(path, NEW, undefined, eperm);
    expect(error.message).toContain(join(temporary, `portico-${uid}`, 'recovered'));
    expect(readdirSync(join(config, 'recovered'))).toEqual([recoveryName(path)]);
  });

  it("never uses a portico-<uid> another user made first (a symlink or another owner's): a fresh mkdtemp directory instead", () => {
    const path = tokensFile();
    mkdirSync(join(root, 'xdg'));
    writeFileSync(config, 'not a directory');
    const squatted = join(root, 'squatted');
    mkdirSync(squatted);
    symlinkSync(squatted, join(temporary, `portico-${uid}`));
    const first = recoverTokens(path, NEW, undefined, eperm);
    expect(readdirSync(squatted)).toEqual([]);
    const fresh = readdirSync(temporary).filter((name) => name.startsWith(`portico-${uid}-`));
    expect(fresh).toHaveLength(1);
    expect(first.message).toContain(join(temporary, fresh[0]!, 'recovered', recoveryName(path)));
    expect(modeOf(join(temporary, fresh[0]!))).toBe(0o700);
    expect(hasRecovered(path)).toBe(true);

    rmSync(join(temporary, `portico-${uid}`));
    mkdirSync(join(temporary, `portico-${uid}`));
    chownSync(join(temporary, `portico-${uid}`), 4242, 4242);
    recoverTokens(path, NEW, undefined, eperm);
    expect(readdirSync(join(temporary, `portico-${uid}`))).toEqual([]);
    expect(readdirSync(temporary).filter((name) => name.startsWith(`portico-${uid}-`))).toHaveLength(2);
  });

  it('names a squatted portico-<uid> among the failures as EPERM', () => {
    const path = tokensFile();
    mkdirSync(join(root, 'xdg'));
    writeFileSync(config, 'not a directory');
    symlinkSync(root, join(temporary, `portico-${uid}`));
    frozenBy(temporary);
    expect(recoverTokens(path, NEW, undefined, eperm).message).toContain('(ENOTDIR, EPERM, EPERM)');
  });

  it('says the tokens are lost, naming each failure and never a token, when no place can hold them', () => {
    const path = tokensFile();
    mkdirSync(join(root, 'xdg'));
    writeFileSync(config, 'not a directory');
    frozenBy(temporary);
    const error = recoverTokens(path, NEW, tokensText(OLD), eperm);
    expect(error.code).toBe('tokens_lost');
    expect(error.cause).toBe(eperm);
    expect(error.message).toBe(
      `cannot replace ${path} (EPERM) after its refresh token was spent, nor save the new tokens elsewhere (ENOTDIR, EPERM, EPERM); run portico login fdx again`,
    );
    expect(readdirSync(temporary)).toEqual([]);
  });
});

describe('finding recovery files', () => {
  it('finds them by the real path of the tokens file, in the config directory and in each portico-<uid>* that is the user own', () => {
    const path = tokensFile();
    const link = join(root, 'link.json');
    symlinkSync(path, link);
    expect(hasRecovered(path)).toBe(false);
    recoverTokens(link, NEW, undefined, eperm);
    expect(hasRecovered(path)).toBe(true);
    expect(hasRecovered(join(root, 'other.json'))).toBe(false);
    discardRecovered(path);
    expect(hasRecovered(link)).toBe(false);
    expect(readdirSync(join(config, 'recovered'))).toEqual([]);

    const place = (directory: string) => {
      mkdirSync(join(temporary, directory, 'recovered'), { recursive: true });
      writeFileSync(join(temporary, directory, 'recovered', recoveryName(path)), tokensText(NEW));
    };
    place(`portico-${uid}-abc`);
    expect(hasRecovered(path)).toBe(true);
    discardRecovered(path);
    expect(readdirSync(join(temporary, `portico-${uid}-abc`, 'recovered'))).toEqual([]);
    // Names that are not this user's, and a directory of the right name that another user owns.
    place(`portico-${uid}0`);
    place(`other-portico-${uid}`);
    place(`portico-${uid}-foreign`);
    chownSync(join(temporary, `portico-${uid}-foreign`), 4242, 4242);
    expect(hasRecovered(path)).toBe(false);
    discardRecovered(path);
    expect(readdirSync(join(temporary, `portico-${uid}-foreign`, 'recovered'))).toEqual([recoveryName(path)]);
  });

  it('still looks in the config directory when the temporary directory cannot be listed', () => {
    const path = tokensFile();
    recoverTokens(path, NEW, undefined, eperm);
    vi.stubEnv('TMPDIR', join(root, 'missing'));
    expect(hasRecovered(path)).toBe(true);
  });

  it('recoveryBlocked names the recovery file when there is one, else is the error it was given', () => {
    const path = tokensFile();
    const cause = unwritable(path, eperm);
    expect(recoveryBlocked(path, cause)).toBe(cause);
    recoverTokens(path, NEW, undefined, eperm);
    const file = join(config, 'recovered', recoveryName(path));
    const blocked = recoveryBlocked(path, cause);
    expect(blocked.code).toBe('tokens_pending_recovery');
    expect(blocked.cause).toBe(cause);
    expect(blocked.message).toBe(
      `${file} holds the tokens that replaced the spent refresh token of ${path}, and ${path} still cannot be replaced (EPERM); nothing was sent: make ${work} writable and run the command again (portico then moves them over ${path}), or move ${file} to ${path}`,
    );
  });
});

describe('adoptRecovered', () => {
  /** `path` as OLD, and NEW in its recovery file marked as replacing `replaces`. */
  function pending(replaces: string | undefined = tokensText(OLD)) {
    const path = tokensFile();
    recoverTokens(path, NEW, replaces, eperm);
    return { path, file: join(config, 'recovered', recoveryName(path)) };
  }

  it('moves the recovered tokens over the stale file they replace, keeping where the file says they are used, and removes the recovery file', () => {
    const { path, file } = pending();
    adoptRecovered(path, 'fdx');
    expect(readJson(path)).toEqual({ ...OLD, tokens: NEW.tokens });
    expect(modeOf(path)).toBe(0o600);
    expect(hasRecovered(path)).toBe(false);
    expect(() => statSync(file)).toThrow();
  });

  it('does nothing without a recovery file', () => {
    const path = tokensFile();
    adoptRecovered(path, 'fdx');
    expect(readFileSync(path, 'utf8')).toBe(tokensText(OLD));
  });

  it('only removes the recovery file when the file already holds its tokens', () => {
    const { path } = pending('some other text');
    writeTokensFile(path, { ...OLD, tokens: NEW.tokens });
    const before = statSync(path).ino;
    adoptRecovered(path, 'fdx');
    expect(statSync(path).ino).toBe(before);
    expect(hasRecovered(path)).toBe(false);
  });

  it('a file holding the same access token with another refresh token is not the recovered set', () => {
    const { path } = pending('some other text');
    writeTokensFile(path, { ...OLD, tokens: { ...NEW.tokens, refreshToken: 'rt-other' } });
    expect(errorOf(() => adoptRecovered(path, 'fdx')).code).toBe('tokens_pending_recovery');
  });

  it('never overwrites a file that changed since, or brings back one that is gone', () => {
    const { path, file } = pending();
    writeTokensFile(path, { ...OLD, clientId: 'changed' });
    const changed = errorOf(() => adoptRecovered(path, 'fdx'));
    expect(changed.code).toBe('tokens_pending_recovery');
    expect(changed.message).toBe(
      `${file} holds the tokens that replaced the spent refresh token of ${path}, and ${path} has changed since they were saved there; nothing was sent: keep the tokens you want: move ${file} to ${path}, or delete ${file}`,
    );
    expect(changed.cause).toBeUndefined();
    expect(readJson(path).clientId).toBe('changed');
    rmSync(path);
    const gone = errorOf(() => adoptRecovered(path, 'fdx'));
    expect(gone.message).toContain(`${path} has gone since they were saved there`);
    expect(hasRecovered(path)).toBe(true);
  });

  it('a recovery file that cannot be read is named, with what to do, never its content', () => {
    const { path, file } = pending();
    writeFileSync(file, '{"tokens": "rt-new-secret"');
    const error = errorOf(() => adoptRecovered(path, 'fdx'));
    expect(error.code).toBe('tokens_pending_recovery');
    expect(error.message).toBe(
      `${file} holds the tokens that replaced the spent refresh token of ${path}, and it cannot be read (${file} is not JSON; run portico login fdx again); nothing was sent: repair or delete ${file}`,
    );
    expect((error.cause as CliError).code).toBe('invalid_tokens_file');
    expectNoSecret(error.message);
  });

  it('leaves both files when the tokens file still cannot be replaced', () => {
    const { path, file } = pending();
    frozenBy(work);
    const error = errorOf(() => adoptRecovered(path, 'fdx'));
    expect(error.message).toBe(
      `${file} holds the tokens that replaced the spent refresh token of ${path}, and ${path} still cannot be replaced (EPERM); nothing was sent: make ${work} writable and run the command again (portico then moves them over ${path}), or move ${file} to ${path}`,
    );
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EPERM');
    expect(readJson(path)).toEqual(OLD);
    expect(hasRecovered(path)).toBe(true);
  });

  it('says so when the recovery file cannot be removed once its tokens are in place', () => {
    const { path, file } = pending();
    frozenBy(join(config, 'recovered'));
    const error = errorOf(() => adoptRecovered(path, 'fdx'));
    const { code } = error.cause as NodeJS.ErrnoException;
    expect(code).toMatch(/^E[A-Z]+$/);
    expect(error.message).toBe(
      `${file} holds the tokens that replaced the spent refresh token of ${path}, and they are in ${path} now, but ${file} cannot be removed (${code}); nothing was sent: delete ${file}`,
    );
    expect(readJson(path).tokens).toEqual(NEW.tokens);
  });
});

describe('loadTokensFile', () => {
  const write = (content: unknown) => {
    const path = join(work, 'fdx.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const refusal = (content: unknown) => errorOf(() => loadTokensFile(write(content), 'fdx'));

  it('returns the content and the exact text, or undefined when there is no file', () => {
    const path = tokensFile();
    expect(loadTokensFile(path, 'fdx')).toEqual({ content: OLD, text: tokensText(OLD) });
    expect(loadTokensFile(join(work, 'none.json'), 'fdx')).toBeUndefined();
  });

  it('a file that cannot be read is tokens_file_unreadable with the reason', () => {
    const error = errorOf(() => loadTokensFile(work, 'fdx'));
    expect(error.code).toBe('tokens_file_unreadable');
    expect(error.message).toBe(`cannot read ${work} (EISDIR)`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it('refuses what portico login did not write for this provider, without showing the file', () => {
    const broken = refusal('{"accessToken": "at-old-secret"');
    expect(broken.code).toBe('invalid_tokens_file');
    expect(broken.message).toBe(`${join(work, 'fdx.json')} is not JSON; run portico login fdx again`);
    const foreign = `${join(work, 'fdx.json')} does not hold fdx tokens from portico login`;
    for (const content of [
      'null',
      { ...OLD, provider: 'finexer' },
      { ...OLD, clientId: 7 },
      { ...OLD, tokens: undefined },
      { ...OLD, tokens: { ...OLD.tokens, accessToken: 7 } },
      { ...OLD, authBaseUrl: 7 },
    ]) {
      const error = refusal(content);
      expect(error.code).toBe('invalid_tokens_file');
      expect(error.message).toBe(foreign);
      expectNoSecret(error.message);
    }
    const { authBaseUrl: _, ...withoutServer } = OLD;
    expect(loadTokensFile(write(withoutServer), 'fdx')?.content).toEqual(withoutServer);
  });

  it('names the field of the token set that the session could not read', () => {
    const error = refusal({ ...OLD, tokens: { ...OLD.tokens, scope: 'read' } });
    expect(error.code).toBe('invalid_tokens_file');
    expect(error.message).toBe(`${join(work, 'fdx.json')}: tokens.scope must be an array of strings; run portico login fdx again`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('readTokensFile says how to log in when there is no file', () => {
    const error = errorOf(() => readTokensFile(join(work, 'none.json'), 'fdx'));
    expect(error.code).toBe('not_logged_in');
    expect(error.message).toBe(`no tokens at ${join(work, 'none.json')}; run: portico login fdx --client-id <id>`);
    expect(readTokensFile(tokensFile(), 'fdx')).toEqual(OLD);
  });
});
