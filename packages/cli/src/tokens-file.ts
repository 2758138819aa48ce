// The token set `portico login` writes and `portico call` reads and updates:
// owner-only (0600), replaced atomically so a crash mid-write never leaves a
// half file and a rotated refresh token is never lost.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tokens } from '@portico/auth';
import { CliError } from './errors.js';

export interface TokensFile {
  provider: string;
  clientId: string;
  /** Authorization server base URL, for providers whose endpoints are relative (each bank hosts its own). */
  authBaseUrl?: string;
  tokens: Tokens;
}

export const defaultTokensPath = (slug: string) => join('.portico', `${slug}.json`);

export function writeTokensFile(path: string, content: TokensFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError('tokens_file_unwritable', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: error,
    });
  }
}

export function readTokensFile(path: string, slug: string): TokensFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError('not_logged_in', `no tokens at ${path}; run: portico login ${slug} --client-id <id>`);
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
  return content;
}
