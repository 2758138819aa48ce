// `portico call`: one typed call through the provider package. The path and
// parameters are checked against the spec first; tokens from `portico login`
// are refreshed by the package's own session, with the tokens file as its
// store.
import { readFileSync } from 'node:fs';
import { TokenStoreError } from '@portico/auth';
import { type CatalogProvider, resolveCall } from './catalog.js';
import { CliError } from './errors.js';
import { adoptPendingRecovery, TokensFileStore } from './file-store.js';
import { loadProvider, oauthFlow } from './provider.js';
import { envName } from './secret.js';
import { configDir, defaultTokensPath, inConfigDir, readTokensFile, type TokensFile } from './tokens-file.js';

export interface CallOptions {
  param: string[];
  body?: string;
  tokens?: string;
  baseUrl?: string;
  authUrl?: string;
}

function parseBody(body: string): unknown {
  let text = body;
  if (body.startsWith('@')) {
    try {
      text = readFileSync(body.slice(1), 'utf8');
    } catch (error) {
      throw new CliError('invalid_body', `cannot read ${body.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('invalid_body', `--body is not JSON${body.startsWith('@') ? ` (in ${body.slice(1)})` : ''}`);
  }
}

function sameUrl(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      return new URL(url).href.replace(/\/+$/, '');
    } catch {
      throw new CliError('invalid_auth_url', `${url} is not a URL`);
    }
  };
  return normal(a) === normal(b);
}

/**
 * Where a refresh, and with it the client secret, may go: `--auth-url`, or
 * what portico login saved in the user's own config directory. A tokens
 * file anywhere else (a cloned repository's `.portico/`, a download) never
 * chooses it; what it names is only checked against `--auth-url`.
 */
function trustedAuthUrl(info: CatalogProvider, path: string, saved: TokensFile, flag: string | undefined): string | undefined {
  if (!info.auth.relativeEndpoints) return undefined;
  if (flag !== undefined) {
    if (saved.authBaseUrl !== undefined && !sameUrl(saved.authBaseUrl, flag))
      throw new CliError(
        'auth_url_mismatch',
        `${path} was saved for the authorization server ${saved.authBaseUrl}, not --auth-url ${flag}; nothing was sent to either`,
      );
    return flag;
  }
  if (inConfigDir(path)) return saved.authBaseUrl;
  throw new CliError(
    'missing_auth_url',
    `${path} is outside portico's config directory (${configDir()}), so it cannot choose where the client secret goes: pass --auth-url`,
  );
}

/** The `auth` createClient takes: the login's session, the client's own credentials, or a token from the environment. */
/** `SLUG_API_KEY` for `apiKey`: the variable a held credential's field is read from (the provider README names the same). */
const fieldVariable = (slug: string, field: string) => envName(slug, field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());

export async function authFor(info: CatalogProvider, options: CallOptions): Promise<unknown> {
  const { slug, auth } = info;
  // A credential the user holds, when every variable of one of them is set; else the provider's grant.
  const held = auth.credentials.find((fields) => fields.every((field) => process.env[fieldVariable(slug, field)]));
  if (held) return Object.fromEntries(held.map((field) => [field, process.env[fieldVariable(slug, field)]]));
  if (!auth.grants.length) {
    const ways = auth.credentials.map((fields) => fields.map((field) => fieldVariable(slug, field)).join(' and '));
    throw new CliError('missing_credentials', `set ${ways.join(', or ')}`);
  }
  if (auth.grants.includes('authorization_code')) {
    const path = options.tokens ?? defaultTokensPath(slug);
    await adoptPendingRecovery(path, slug);
    const saved = readTokensFile(path, slug);
    const authBaseUrl = trustedAuthUrl(info, path, saved, options.authUrl);
    // The redirect URI is not sent on refresh; any loopback value satisfies the flow's checks.
    const flow = await oauthFlow(slug, {
      clientId: saved.clientId,
      redirectUri: 'http://127.0.0.1/callback',
      ...(authBaseUrl ? { authBaseUrl } : {}),
    });
    return flow.session(saved.tokens, { store: new TokensFileStore(path, saved), key: path });
  }
  const env = (what: string) => process.env[envName(slug, what)];
  if (auth.grants.includes('client_credentials')) {
    const clientId = env('CLIENT_ID');
    const clientSecret = env('CLIENT_SECRET');
    if (!clientId || !clientSecret)
      throw new CliError('missing_credentials', `set ${envName(slug, 'CLIENT_ID')} and ${envName(slug, 'CLIENT_SECRET')}`);
    return { clientId, clientSecret };
  }
  const accessToken = env('ACCESS_TOKEN');
  if (!accessToken) throw new CliError('missing_credentials', `set ${envName(slug, 'ACCESS_TOKEN')}`);
  return { accessToken };
}

/** Runs the call and returns the response body; API errors throw the package's typed errors. */
export async function call(slug: string, method: string, path: string, options: CallOptions): Promise<unknown> {
  const { info, module } = await loadProvider(slug);
  const { operation, params } = resolveCall(info, method, path, options.param);
  if (options.body !== undefined && !operation.body)
    throw new CliError('unexpected_body', `${operation.method} ${operation.path} takes no body`);
  const body = options.body === undefined ? undefined : parseBody(options.body);
  const auth = operation.secured ? await authFor(info, options) : undefined;
  const client = module.createClient({ auth, throwOnError: true, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) });
  try {
    const { data } = await client.request(operation.method, operation.path, { params, ...(body === undefined ? {} : { body }) });
    return data;
  } catch (error) {
    // The tokens file's own error (where the new tokens went, what to fix) is the one line to print.
    throw error instanceof TokenStoreError && error.cause instanceof CliError ? error.cause : error;
  }
}
