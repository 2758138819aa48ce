// The token set `portico login` writes and `portico call` reads and updates.
// It lives in the user's config directory, never in the working tree, where
// `git add -A` would publish the refresh token. Owner-only (directory 0700,
// file 0600), and replaced atomically so a crash mid-write never leaves a
// half file.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Tokens } from '@portico/auth';
import { toTokens } from '@portico/auth/internal';
import { CliError } from './errors.js';

export interface TokensFile {
  provider: string;
  clientId: string;
  /** Authorization server base URL, for providers whose endpoints are relative (each bank hosts its own). */
  authBaseUrl?: string;
  tokens: Tokens;
  /** In a recovery file: the sha256 of the tokens file's text these tokens replace (see recoverTokens). */
  replaces?: string;
}

/**
 * Portico's own directory: `$XDG_CONFIG_HOME/portico` (else
 * `~/.config/portico`) on Linux and the BSDs, `~/Library/Application
 * Support/portico` on macOS, `%APPDATA%\portico` on Windows. env-paths
 * names `~/Library/Preferences` (meant for plists) and
 * `%APPDATA%\portico\Config` instead, so the few lines are written here.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'portico');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'portico');
  // The XDG spec ignores a relative value: it would put tokens in the working directory.
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'portico');
}

export const defaultTokensPath = (slug: string) => join(configDir(), `${slug}.json`);

/** True for a file portico login wrote in the user's own config directory, the only files trusted to name where the client secret goes. */
export function inConfigDir(path: string): boolean {
  const inside = relative(configDir(), resolve(path));
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';

// The config directory is portico's own: one left group- or world-readable
// (by hand, or by an older version) is closed. Elsewhere the user chose the
// directory, and only the ones created here get 0700.
function ensureDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (resolve(directory) === configDir() && (statSync(directory).mode & 0o077) !== 0) chmodSync(directory, 0o700);
}

/** Writes `text` to a new file beside `path` and renames it over `path`; throws the fs error as it is. */
export function replaceFile(path: string, text: string): void {
  ensureDirectory(dirname(path));
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export const tokensText = (content: TokensFile) => `${JSON.stringify(content, null, 2)}\n`;

export const unwritable = (path: string, error: unknown) =>
  new CliError(
    'tokens_file_unwritable',
    `cannot replace ${path} (${errnoOf(error)}); portico only spends a refresh token where it can save the new one: make ${dirname(path)} writable, or copy the file somewhere writable and pass --tokens`,
    { cause: error },
  );

export function writeTokensFile(path: string, content: TokensFile): void {
  try {
    replaceFile(path, tokensText(content));
  } catch (error) {
    throw unwritable(path, error);
  }
}

/**
 * Rewrites the file with its own text, the way a save would: run before a
 * refresh token is spent, so a file that can be read but not replaced
 * (read-only or full file system, another owner, an immutable directory)
 * is found while the old refresh token is still good.
 */
export function assertReplaceable(path: string): void {
  let text: string;
  try {
    // Stryker disable next-line StringLiteral: without an encoding the text is a Buffer of the same bytes, which replaceFile writes back the same
    text = readFileSync(path, 'utf8');
    replaceFile(path, text);
  } catch (error) {
    throw unwritable(path, error);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A directory only this user can use: created 0700 (with `create`), and
 * refused when it is a symlink or another user's. Under the shared temporary
 * directory another user could have created it first, to be handed the
 * tokens or to hand portico tokens of theirs.
 */
function ownDirectory(directory: string, create: boolean): string {
  if (create) mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stat = lstatSync(directory);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid))
    throw Object.assign(new Error(`${directory} is not this user's own directory`), { code: 'EPERM' });
  if (create && process.platform !== 'win32' && (stat.mode & 0o077) !== 0) chmodSync(directory, 0o700);
  return directory;
}

/** `portico-<uid>`: the per-user directory's name in the temporary directory; a fresh one is named `portico-<uid>-XXXXXX`. */
const temporaryName = () => `portico-${process.getuid?.() ?? 'user'}`;

const recoveredIn = (directory: string, create: boolean) => ownDirectory(join(directory, 'recovered'), create);

/**
 * The places a new recovery file may go, in order: the config directory's
 * `recovered/`, else `$TMPDIR/portico-<uid>/recovered/`, else, when another
 * user created `portico-<uid>` first, a fresh `portico-<uid>-XXXXXX` (mkdtemp:
 * nobody can have made it before). The fixed name is only a convenience;
 * the tokens must be saved even when it is taken.
 */
const newRecoveryDirectories = (): Array<() => string> => [
  () => recoveredIn(configDir(), true),
  () => recoveredIn(ownDirectory(join(tmpdir(), temporaryName()), true), true),
  () => recoveredIn(mkdtempSync(join(tmpdir(), `${temporaryName()}-`)), true),
];

/**
 * The places a recovery file may be: the config directory's `recovered/`,
 * and every `portico-<uid>` or `portico-<uid>-*` in the temporary directory
 * that is this user's own (another user can create a directory of either
 * name, never one this user owns).
 */
function recoveryDirectories(): Array<() => string> {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    // Stryker disable next-line ArrayDeclaration: a made-up name matches no portico-<uid> prefix, so the filter below drops it
    names = [];
  }
  const ours = names.filter((name) => name === temporaryName() || name.startsWith(`${temporaryName()}-`));
  return [
    () => recoveredIn(configDir(), false),
    ...ours.map((name) => () => recoveredIn(ownDirectory(join(tmpdir(), name), false), false)),
  ];
}

/**
 * One fixed name per tokens file (the sha256 of its real path), so the next
 * call on that file finds the recovery file before it spends anything.
 */
function recoveryName(path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    real = resolve(path);
  }
  return `${sha256(real)}.json`;
}

/** The recovery files that exist for `path`, in a directory that is this user's own. */
function recoveryFiles(path: string): string[] {
  const name = recoveryName(path);
  return recoveryDirectories().flatMap((directory) => {
    try {
      const file = join(directory(), name);
      return existsSync(file) ? [file] : [];
    } catch {
      return [];
    }
  });
}

export const hasRecovered = (path: string) => recoveryFiles(path).length > 0;

/** Drops what a failed save left for `path`: a new login replaced the tokens it would have recovered. */
export function discardRecovered(path: string): void {
  for (const file of recoveryFiles(path)) rmSync(file, { force: true });
}

/** `--tokens <file>`, and `--auth-url` with it where a file outside the config directory cannot name the server itself. */
const tokensFlags = (file: string, content: TokensFile) =>
  `--tokens ${file}${content.authBaseUrl && !inConfigDir(file) ? ` --auth-url ${content.authBaseUrl}` : ''}`;

/**
 * Rotated tokens that could not replace `path` are the only copy of a live
 * refresh token: they go to `path`'s recovery file (owner-only, in the
 * config directory, else the temporary directory), marked with the text they
 * replace, and the error says where. The next call adopts them (see
 * adoptRecovered) instead of spending the stale refresh token again.
 */
export function recoverTokens(path: string, content: TokensFile, staleText: string | undefined, cause: unknown): CliError {
  const failures: string[] = [];
  const name = recoveryName(path);
  for (const directory of newRecoveryDirectories()) {
    let temporary: string | undefined;
    try {
      const file = join(directory(), name);
      temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      const recovered: TokensFile = { ...content, ...(staleText === undefined ? {} : { replaces: sha256(staleText) }) };
      writeFileSync(temporary, tokensText(recovered), { mode: 0o600, flag: 'wx' });
      renameSync(temporary, file);
      return new CliError(
        'tokens_not_saved',
        `cannot replace ${path} (${errnoOf(cause)}) after its refresh token was spent; the new tokens are in ${file}: run the command again once ${dirname(path)} can be written (portico moves them over ${path} before anything else), or move that file to ${path}, or pass ${tokensFlags(file, content)}`,
        { cause },
      );
    } catch (error) {
      if (temporary) rmSync(temporary, { force: true });
      failures.push(errnoOf(error));
    }
  }
  return new CliError(
    'tokens_lost',
    `cannot replace ${path} (${errnoOf(cause)}) after its refresh token was spent, nor save the new tokens elsewhere (${failures.join(', ')}); run portico login ${content.provider} again`,
    { cause },
  );
}

const pendingRecovery = (path: string, file: string, why: string, what: string, cause?: unknown) =>
  new CliError(
    'tokens_pending_recovery',
    `${file} holds the tokens that replaced the spent refresh token of ${path}, and ${why}; nothing was sent: ${what}`,
    cause === undefined ? {} : { cause },
  );

/** Why `path`'s recovery file cannot be adopted when not even its lock can be taken (`cause`: the tokens_file_unwritable error). */
export function recoveryBlocked(path: string, cause: CliError): CliError {
  const [file] = recoveryFiles(path);
  if (file === undefined) return cause;
  return pendingRecovery(
    path,
    file,
    `${path} still cannot be replaced (${errnoOf(cause.cause)})`,
    `make ${dirname(path)} writable and run the command again (portico then moves them over ${path}), or move ${file} to ${path}`,
    cause,
  );
}

/**
 * Before anything is spent, with `path`'s lock held: tokens a failed save
 * left in `path`'s recovery file replace the stale file they were meant to
 * replace (compared by its text, so a file changed since is not
 * overwritten), and the recovery file goes. Only the tokens are taken from
 * it; where they are used stays as the tokens file says. Throws
 * `tokens_pending_recovery`, saying what to do, when that cannot be done.
 */
export function adoptRecovered(path: string, slug: string): void {
  for (const file of recoveryFiles(path)) {
    let recovered: ReturnType<typeof loadTokensFile>;
    try {
      recovered = loadTokensFile(file, slug);
    } catch (error) {
      throw pendingRecovery(path, file, `it cannot be read (${(error as Error).message})`, `repair or delete ${file}`, error);
    }
    if (recovered === undefined) continue;
    const current = loadTokensFile(path, slug);
    const { replaces, ...content } = { ...(current?.content ?? recovered.content), tokens: recovered.content.tokens };
    const tokens = recovered.content.tokens;
    const already =
      current?.content.tokens.accessToken === tokens.accessToken && current.content.tokens.refreshToken === tokens.refreshToken;
    if (!already) {
      if (current === undefined || sha256(current.text) !== recovered.content.replaces)
        throw pendingRecovery(
          path,
          file,
          `${path} has ${current === undefined ? 'gone' : 'changed'} since they were saved there`,
          `keep the tokens you want: move ${file} to ${path}, or delete ${file}`,
        );
      try {
        replaceFile(path, tokensText(content));
      } catch (error) {
        throw pendingRecovery(
          path,
          file,
          `${path} still cannot be replaced (${errnoOf(error)})`,
          `make ${dirname(path)} writable and run the command again (portico then moves them over ${path}), or move ${file} to ${path}`,
          error,
        );
      }
    }
    try {
      rmSync(file, { force: true });
    } catch (error) {
      throw pendingRecovery(
        path,
        file,
        `they are in ${path} now, but ${file} cannot be removed (${errnoOf(error)})`,
        `delete ${file}`,
        error,
      );
    }
  }
}

/** The file's parsed content and its text (what a compare-and-set compares), or undefined when there is no file. */
export function loadTokensFile(path: string, slug: string): { content: TokensFile; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw new CliError('tokens_file_unreadable', `cannot read ${path} (${errnoOf(error)})`, { cause: error });
  }
  let content: TokensFile;
  try {
    content = JSON.parse(text) as TokensFile;
  } catch {
    throw new CliError('invalid_tokens_file', `${path} is not JSON; run portico login ${slug} again`);
  }
  if (
    content?.provider !== slug ||
    typeof content.clientId !== 'string' ||
    typeof content.tokens?.accessToken !== 'string' ||
    (content.authBaseUrl !== undefined && typeof content.authBaseUrl !== 'string')
  ) {
    throw new CliError('invalid_tokens_file', `${path} does not hold ${slug} tokens from portico login`);
  }
  // Each field of the token set as the session will read it (scope an array of strings, …): a file edited by hand gets the file's error.
  try {
    toTokens(content.tokens);
  } catch (error) {
    throw new CliError('invalid_tokens_file', `${path}: ${(error as Error).message}; run portico login ${slug} again`, { cause: error });
  }
  return { content, text };
}

export const notLoggedIn = (path: string, slug: string) =>
  new CliError('not_logged_in', `no tokens at ${path}; run: portico login ${slug} --client-id <id>`);

export function readTokensFile(path: string, slug: string): TokensFile {
  const loaded = loadTokensFile(path, slug);
  if (loaded === undefined) throw notLoggedIn(path, slug);
  return loaded.content;
}
