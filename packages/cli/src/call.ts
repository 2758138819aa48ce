// `portico call`: one typed call through the provider package. The path and
// parameters are checked against the spec first; tokens from `portico login`
// are refreshed by the package's own session and written back when rotated.
import { readFileSync } from 'node:fs';
import type { Tokens } from '@portico/auth';
import { type CatalogProvider, resolveCall } from './catalog.js';
import { CliError } from './errors.js';
import { loadProvider, oauthFlow } from './provider.js';
import { defaultTokensPath, readTokensFile, writeTokensFile } from './tokens-file.js';

export interface CallOptions {
  param: string[];
  body?: string;
  tokens?: string;
  baseUrl?: string;
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

const env = (slug: string, what: string) => process.env[`${slug.replace(/-/g, '_').toUpperCase()}_${what}`];

/** The `auth` createClient takes: the login's session, the client's own credentials, or a token from the environment. */
async function authFor(info: CatalogProvider, tokensPath: string | undefined): Promise<unknown> {
  const { slug, auth } = info;
  if (auth.grants.includes('authorization_code')) {
    const path = tokensPath ?? defaultTokensPath(slug);
    const saved = readTokensFile(path, slug);
    // The redirect URI is not sent on refresh; any loopback value satisfies the flow's checks.
    const flow = await oauthFlow(slug, {
      clientId: saved.clientId,
      redirectUri: 'http://127.0.0.1/callback',
      ...(saved.authBaseUrl ? { authBaseUrl: saved.authBaseUrl } : {}),
    });
    return flow.session(saved.tokens, { onTokens: (tokens: Tokens) => writeTokensFile(path, { ...saved, tokens }) });
  }
  const name = slug.replace(/-/g, '_').toUpperCase();
  if (auth.grants.includes('client_credentials')) {
    const clientId = env(slug, 'CLIENT_ID');
    const clientSecret = env(slug, 'CLIENT_SECRET');
    if (!clientId || !clientSecret) throw new CliError('missing_credentials', `set ${name}_CLIENT_ID and ${name}_CLIENT_SECRET`);
    return { clientId, clientSecret };
  }
  const accessToken = env(slug, 'ACCESS_TOKEN');
  if (!accessToken) throw new CliError('missing_credentials', `set ${name}_ACCESS_TOKEN`);
  return { accessToken };
}

/** Runs the call and returns the response body; API errors throw the package's typed errors. */
export async function call(slug: string, method: string, path: string, options: CallOptions): Promise<unknown> {
  const { info, module } = await loadProvider(slug);
  const { operation, params } = resolveCall(info, method, path, options.param);
  if (options.body !== undefined && !operation.body)
    throw new CliError('unexpected_body', `${operation.method} ${operation.path} takes no body`);
  const body = options.body === undefined ? undefined : parseBody(options.body);
  const auth = operation.secured ? await authFor(info, options.tokens) : undefined;
  const client = module.createClient({ auth, throwOnError: true, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) });
  const { data } = await client.request(operation.method, operation.path, { params, ...(body === undefined ? {} : { body }) });
  return data;
}
