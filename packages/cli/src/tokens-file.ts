// The token set `portico login` writes and `portico call` reads and updates.
// It lives in the user's config directory, never in the working tree, where
// `git add -A` would publish the refresh token. Owner-only (directory 0700,
// file 0600), and replaced atomically so a crash mid-write never leaves a
// half file.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Tokens } from '@portico/auth';
import { CliError } from './errors.js';

export interface TokensFile {
  provider: string;
  clientId: string;
  /** Authorization server base URL, for providers whose endpoints are relative (each bank hosts its own). */
  authBaseUrl?: string;
  tokens: Tokens;
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
    text = readFileSync(path, 'utf8');
    replaceFile(path, text);
  } catch (error) {
    throw unwritable(path, error);
  }
}

/**
 * Rotated tokens that could not replace `path` are the only copy of a live
 * refresh token: they go to a new owner-only file (under the config
 * directory, else the temporary directory) and the error says where.
 */
export function recoverTokens(path: string, content: TokensFile, cause: unknown): CliError {
  const failures: string[] = [];
  for (const base of [join(configDir(), 'recovered'), tmpdir()]) {
    try {
      ensureDirectory(base);
      const file = join(mkdtempSync(join(base, `${content.provider}-`)), `${content.provider}.json`);
      writeFileSync(file, tokensText(content), { mode: 0o600, flag: 'wx' });
      return new CliError(
        'tokens_not_saved',
        `cannot replace ${path} (${errnoOf(cause)}) after its refresh token was spent; the new tokens are in ${file}: move that file to ${path} once it can be written (or pass it as --tokens)`,
        { cause },
      );
    } catch (error) {
      failures.push(errnoOf(error));
    }
  }
  return new CliError(
    'tokens_lost',
    `cannot replace ${path} (${errnoOf(cause)}) after its refresh token was spent, nor save the new tokens elsewhere (${failures.join(', ')}); run portico login ${content.provider} again`,
    { cause },
  );
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
  if (content?.provider !== slug || typeof content.clientId !== 'string' || typeof content.tokens?.accessToken !== 'string') {
    throw new CliError('invalid_tokens_file', `${path} does not hold ${slug} tokens from portico login`);
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
