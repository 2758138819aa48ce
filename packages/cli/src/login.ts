// `portico login`: the authorization-code flow for a native app (RFC 8252):
// an HTTP listener on the loopback interface waits for the redirect that
// carries this login's state, the flow checks it (and PKCE), the code is
// exchanged and the tokens are written owner-only.
import { spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OAuthFlow, Tokens } from '@portico/auth';
import { findProvider } from './catalog.js';
import { CliError } from './errors.js';
import { oauthFlow } from './provider.js';
import { withoutSecrets } from './secret.js';
import { defaultTokensPath, discardRecovered, inConfigDir, writeTokensFile } from './tokens-file.js';

export interface LoginOptions {
  clientId: string;
  scope?: string[];
  port: number;
  out?: string;
  authUrl?: string;
  timeout: number;
  open: boolean;
}

const PAGE = (title: string, text: string, head = '') =>
  `<!doctype html><meta charset="utf-8">${head}<title>${title}</title><body style="font:16px system-ui;margin:3rem"><h1>${title}</h1><p>${text}</p></body>`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A page that sends the browser on to `url` at once: a script (whose JSON
 * string has `<` escaped, so nothing in it can end the script element), a
 * meta refresh for a browser without scripts, and a link for one that
 * follows neither. No referrer goes to the authorization server.
 */
export function redirectPage(url: string): string {
  const attribute = escapeHtml(url);
  return PAGE(
    'Opening the authorization page',
    `<a href="${attribute}">Continue</a>`,
    `<meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${attribute}"><script>location.replace(${JSON.stringify(url).replace(/</g, '\\u003c')})</script>`,
  );
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError('port_in_use', `port ${port} on 127.0.0.1 is in use; pass --port with a free one (and register its redirect URI)`)
          : error,
      ),
    );
    // RFC 8252 §8.3: the loopback IP literal, not "localhost", and never a public interface.
    server.listen(port, '127.0.0.1', resolve);
  });
}

/**
 * Starts the user's browser ($BROWSER, or the desktop's opener), when there
 * is one, at `url`; otherwise the printed URL is the way. Returns what ends it.
 *
 * Its argv is readable by every local user (/proc/<pid>/cmdline, ps), so it
 * holds neither the authorization URL (its state) nor any address that
 * answers with it: whoever fetched that first could use the state and the
 * PKCE challenge with a code of their own account (login CSRF). The browser
 * gets the file:// path of a page that redirects to `url`, owner-only (0600)
 * in a directory of its own (mkdtemp, 0700): another user can read the path,
 * not the page. The returned function removes both.
 */
function openBrowser(url: string): () => void {
  const command =
    process.env.BROWSER ??
    (process.platform === 'darwin'
      ? 'open'
      : process.platform === 'win32'
        ? undefined
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? 'xdg-open'
          : undefined);
  if (!command) return () => {};
  const directory = mkdtempSync(join(tmpdir(), 'portico-login-'));
  const remove = () => rmSync(directory, { recursive: true, force: true });
  try {
    const page = join(directory, 'authorize.html');
    // Stryker disable next-line StringLiteral: the directory was just made by mkdtemp, owner-only, so no file can be there for 'wx' to refuse
    writeFileSync(page, redirectPage(url), { mode: 0o600, flag: 'wx' });
    const child = spawn(command, [pathToFileURL(page).href], { stdio: 'ignore', detached: true, env: withoutSecrets(process.env) });
    child.on('error', () => {});
    child.unref();
  } catch (error) {
    remove();
    throw error;
  }
  return remove;
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Whether the callback carries this login's state, under its RFC 6749
 * §4.1.2 name (the flow checks it again by the profile's). Compared as
 * digests, in constant time.
 */
function carriesState(url: URL, state: string): boolean {
  const values = url.searchParams.getAll('state');
  return values.length === 1 && sameSecret(values[0]!, state);
}

/** Waits for the redirect to /callback that carries the state, answers the browser, and returns the exchanged tokens. */
function awaitCallback(
  server: Server,
  flow: OAuthFlow,
  check: { state: string; codeVerifier?: string },
  timeoutSeconds: number,
): Promise<Tokens> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CliError('login_timeout', `no authorization came back within ${timeoutSeconds} s; run portico login again`)),
      timeoutSeconds * 1000,
    );
    let answered = false;
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      // One redirect is the whole conversation: a reload or a second tab must not spend another code.
      if (req.method !== 'GET' || url.pathname !== '/callback' || answered) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      // Any process on this machine can reach the port, but only the browser
      // sent to the authorization URL knows the state: nothing else may end
      // the login (with an error) or hand it a code.
      if (!carriesState(url, check.state)) {
        res
          .writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(PAGE('Not this login', 'This redirect does not carry the state of the login portico is waiting for; it was ignored.'));
        return;
      }
      answered = true;
      clearTimeout(timer);
      flow.exchangeCode(url, check).then(
        (tokens) => {
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
            .end(PAGE('Logged in', 'You can close this tab and return to the terminal.'));
          resolve(tokens);
        },
        (error: unknown) => {
          res
            .writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
            .end(PAGE('Login failed', 'See the terminal for the reason.'));
          reject(error);
        },
      );
    });
  });
}

export async function login(slug: string, options: LoginOptions, print: (line: string) => void): Promise<void> {
  const provider = findProvider(slug);
  if (!options.clientId)
    throw new CliError('missing_client_id', `pass --client-id with the OAuth client id registered at ${provider.title}`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)
    throw new CliError('invalid_port', `--port must be 1-65535, got ${options.port}`);
  if (!(options.timeout > 0)) throw new CliError('invalid_timeout', '--timeout must be a positive number of seconds');
  const redirectUri = `http://127.0.0.1:${options.port}/callback`;
  const flow = await oauthFlow(slug, {
    clientId: options.clientId,
    redirectUri,
    ...(options.authUrl ? { authBaseUrl: options.authUrl } : {}),
  });
  const server = createServer();
  await listen(server, options.port);
  let closePage = () => {};
  try {
    const scope = options.scope?.length ? options.scope : undefined;
    const request = await flow.authorizationUrl(scope ? { scope } : {});
    print(`Open this URL in a browser to authorize ${provider.title}:\n\n  ${request.url}\n\nWaiting for the redirect to ${redirectUri} …`);
    // The printed URL goes to this user's terminal only; the browser gets an owner-only page that leads to it.
    if (options.open) closePage = openBrowser(request.url);
    const tokens = await awaitCallback(
      server,
      flow,
      { state: request.state, ...(request.codeVerifier ? { codeVerifier: request.codeVerifier } : {}) },
      options.timeout,
    );
    const out = options.out ?? defaultTokensPath(slug);
    writeTokensFile(out, {
      provider: slug,
      clientId: options.clientId,
      ...(options.authUrl ? { authBaseUrl: options.authUrl } : {}),
      tokens,
    });
    // A new login supersedes tokens an earlier call could not save to this file.
    discardRecovered(out);
    const next = [
      `portico call ${slug} GET <path>`,
      ...(out === defaultTokensPath(slug) ? [] : [`--tokens ${out}`]),
      ...(options.authUrl && !inConfigDir(out) ? [`--auth-url ${options.authUrl}`] : []),
    ].join(' ');
    print(
      [
        `Logged in to ${provider.title} as client ${options.clientId}.`,
        `  scope:          ${tokens.scope?.join(' ') ?? '(as requested)'}`,
        `  access token:   [redacted]${tokens.expiresAt ? `, expires ${new Date(tokens.expiresAt).toISOString()}` : ''}`,
        `  refresh token:  ${tokens.refreshToken ? '[redacted]' : 'none'}`,
        `  saved to:       ${out} (mode 0600)`,
        `Next: ${next}`,
      ].join('\n'),
    );
  } finally {
    closePage();
    server.closeAllConnections();
    server.close();
  }
}
