// A provider package seen through what every generated package exports, so
// one code path drives them all.
import type { OAuthFlow, OAuthFlowOptions } from '@portico/auth';
import { type CatalogProvider, findProvider, packages, type Slug } from './catalog.js';
import { CliError } from './errors.js';
import { clientSecret } from './secret.js';

interface Result {
  data?: unknown;
  error?: unknown;
}

interface ProviderClient {
  request(method: string, path: string, init?: Record<string, unknown>): Promise<Result>;
}

export interface ProviderModule {
  createClient(options?: { auth?: unknown; baseUrl?: string; throwOnError?: boolean }): ProviderClient;
  oauth?: (options: OAuthFlowOptions) => OAuthFlow;
}

export async function loadProvider(slug: string): Promise<{ info: CatalogProvider & { slug: Slug }; module: ProviderModule }> {
  const info = findProvider(slug);
  // The generated packages differ only in their types; the CLI uses their common shape.
  const module = (await packages[info.slug]()) as unknown as ProviderModule;
  return { info, module };
}

/** The provider's authorization-code flow, with the endpoints resolved against `authBaseUrl` where the profile leaves them relative. */
export async function oauthFlow(
  slug: string,
  options: { clientId: string; redirectUri: string; authBaseUrl?: string },
): Promise<OAuthFlow> {
  const { info, module } = await loadProvider(slug);
  if (!module.oauth || !info.auth.grants.includes('authorization_code')) {
    throw new CliError(
      'no_authorization_code',
      `${slug} does not use the authorization-code grant (${info.auth.grants.join(', ')}); see portico providers`,
    );
  }
  if (info.auth.relativeEndpoints && !options.authBaseUrl) {
    throw new CliError(
      'missing_auth_url',
      `${slug} has no fixed authorization server (each institution hosts its own): pass --auth-url https://…`,
    );
  }
  const secret = await clientSecret(slug);
  return module.oauth({
    clientId: options.clientId,
    clientSecret: secret,
    redirectUri: options.redirectUri,
    ...(options.authBaseUrl ? { baseUrl: options.authBaseUrl } : {}),
  });
}
