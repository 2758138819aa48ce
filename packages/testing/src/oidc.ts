// oidc-provider 9, a certified authorization server, on 127.0.0.1 with:
// client credentials (one client per auth method), the authorization code
// grant with PKCE required, refresh tokens rotated on every use (reusing a
// rotated one revokes the grant), RFC 7009 revocation and introspection.
// By default login and consent are finished by the harness itself, so a test
// drives the whole flow with followAuthorization(); `interactions: 'browser'`
// serves oidc-provider's own login and consent pages for a real browser.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { AuthProfile, ClientAuthentication } from '../../auth/src/profile.js';
import { followAuthorization } from './browser.js';

export interface OidcClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Secrets contain RFC 6749 §2.3.1 troublemakers, so a wrong Basic encoding fails against a real server. */
export const OIDC_CLIENTS = {
  basic: { clientId: 'portico-basic', clientSecret: 's3cr:et+/%' },
  post: { clientId: 'portico-post', clientSecret: 'p0st:s3cr&et=+/%' },
  app: { clientId: 'portico-app', clientSecret: 'app:s3cr+et/%' },
  appPost: { clientId: 'portico-app-post', clientSecret: 'app-post:s3cr+et/%' },
} as const;

export const OIDC_ACCOUNT = 'user-0001';

export interface OidcHarnessOptions {
  /**
   * 'server' (default): the harness logs in as OIDC_ACCOUNT and grants consent
   * itself, for followAuthorization(). 'browser': oidc-provider's own login and
   * consent pages are served, for a real browser to fill in.
   */
  interactions?: 'server' | 'browser';
  /** Endpoint paths other than oidc-provider's defaults, e.g. a provider's own `/oauth2/v4/token`. */
  routes?: { authorization?: string; token?: string; revocation?: string };
  /** Scopes the server knows besides openid, offline_access, api:read and api:write. */
  extraScopes?: string[];
}

const ownTokensOnly = async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
  token.clientId === client.clientId;

export class OidcHarness {
  issuer = '';
  readonly redirectUri: string;
  /** Access token lifetime in seconds for tokens issued from now on. */
  accessTokenTtl = 3600;
  /** Answered token requests per grant_type, successful or not. */
  readonly grantCounts: Record<string, number> = {};
  /** Every POST to the token endpoint. */
  tokenEndpointHits = 0;
  readonly #server: Server;
  #provider: Provider | undefined;
  #callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  readonly #options: OidcHarnessOptions;

  constructor(redirectUri = 'http://127.0.0.1:9/callback', options: OidcHarnessOptions = {}) {
    this.redirectUri = redirectUri;
    this.#options = options;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ttl = () => this.accessTokenTtl;
    // Imported on start so that suites using only the emulators never load it.
    const { default: OidcProvider } = await import('oidc-provider');
    const provider = new OidcProvider(this.issuer, {
      clients: [
        ...[OIDC_CLIENTS.basic, OIDC_CLIENTS.post].map((c, i) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: i === 0 ? 'client_secret_basic' : 'client_secret_post',
          scope: 'api:read api:write',
        })),
        ...[OIDC_CLIENTS.app, OIDC_CLIENTS.appPost].map((c, i) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [this.redirectUri],
          token_endpoint_auth_method: i === 0 ? 'client_secret_basic' : 'client_secret_post',
        })),
      ],
      jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test' }] },
      cookies: { keys: ['portico-test-cookie-key'] },
      // The default 15 s lets userinfo accept a token for 15 s after it expired.
      clockTolerance: 0,
      scopes: ['openid', 'offline_access', 'api:read', 'api:write', ...(this.#options.extraScopes ?? [])],
      ...(this.#options.routes ? { routes: this.#options.routes } : {}),
      claims: { openid: ['sub'] },
      features: {
        devInteractions: { enabled: this.#options.interactions === 'browser' },
        clientCredentials: { enabled: true },
        // A client may only see and revoke its own tokens.
        revocation: { enabled: true, allowedPolicy: ownTokensOnly },
        introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      },
      pkce: { required: () => true },
      rotateRefreshToken: true,
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
        client.grantTypeAllowed('refresh_token'),
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
      ...(this.#options.interactions === 'browser'
        ? {}
        : { interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` } }),
      ttl: {
        AccessToken: ttl,
        ClientCredentials: ttl,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 14 * 24 * 3600,
        Interaction: 600,
        Session: 3600,
        Grant: 14 * 24 * 3600,
      },
    });
    const count = (ctx: { oidc: { params?: Record<string, unknown> } }) => {
      const grantType = String(ctx.oidc.params?.grant_type);
      this.grantCounts[grantType] = (this.grantCounts[grantType] ?? 0) + 1;
    };
    provider.on('grant.success', count);
    provider.on('grant.error', count);
    this.#provider = provider;
    this.#callback = provider.callback();
    return this;
  }

  get provider(): Provider {
    if (!this.#provider) throw new Error('the harness is not started');
    return this.#provider;
  }

  get userinfoUrl(): string {
    return `${this.issuer}/me`;
  }

  /**
   * A profile for this server, shaped like a provider spec's: relative URLs
   * (resolved against the issuer), PKCE required, rotation always.
   */
  profile(clientAuthentication: ClientAuthentication = 'client_secret_basic'): AuthProfile {
    return {
      securityScheme: 'oauth2',
      grants: ['authorization_code', 'refresh_token', 'client_credentials'],
      authorization: {
        url: '/auth',
        pkce: 'required',
        state: 'required',
        parameters: {
          client_id: '{clientId}',
          redirect_uri: '{redirectUri}',
          response_type: 'code',
          scope: '{scope}',
          state: '{state}',
          code_challenge: '{codeChallenge}',
          code_challenge_method: 'S256',
        },
        requiredScopes: ['openid'],
      },
      token: {
        url: '/token',
        clientAuthentication,
        bodyFormat: 'form',
        grants: {
          client_credentials: { parameters: { grant_type: 'client_credentials', scope: '{scope}' } },
          authorization_code: {
            parameters: {
              grant_type: 'authorization_code',
              code: '{code}',
              redirect_uri: '{redirectUri}',
              code_verifier: '{codeVerifier}',
            },
          },
          refresh_token: { parameters: { grant_type: 'refresh_token', refresh_token: '{refreshToken}' } },
        },
        response: {
          accessToken: '/access_token',
          tokenType: '/token_type',
          refreshToken: '/refresh_token',
          scope: '/scope',
          expiresIn: '/expires_in',
        },
        error: { code: '/error', description: '/error_description', uri: '/error_uri' },
      },
      scope: { separator: ' ' },
      refresh: { rotation: 'always' },
      revocation: {
        url: '/token/revocation',
        standard: 'rfc7009',
        clientAuthentication,
        bodyFormat: 'form',
        parameters: { token: '{token}', token_type_hint: '{tokenTypeHint}' },
        successStatus: [200],
      },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    };
  }

  /** Plays the browser: follows the authorization URL through login and consent to the callback. */
  authorize(authorizationUrl: string): Promise<URL> {
    return followAuthorization(authorizationUrl, this.redirectUri);
  }

  /** RFC 7662 introspection, authenticated as `client`. */
  async introspect(
    token: string,
    client: OidcClientCredentials = OIDC_CLIENTS.app,
  ): Promise<{ active: boolean; [claim: string]: unknown }> {
    const response = await fetch(`${this.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: client.clientId, client_secret: client.clientSecret }),
    });
    return (await response.json()) as { active: boolean };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === (this.#options.routes?.token ?? '/token')) this.tokenEndpointHits += 1;
    if (path?.startsWith('/interaction/') && this.#options.interactions !== 'browser') {
      this.#finishInteraction(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
      return;
    }
    if (!this.#callback) throw new Error('the harness is not started');
    this.#callback(req, res);
  }

  // The headless user: logs in as OIDC_ACCOUNT and grants everything asked.
  async #finishInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider;
    const details = await provider.interactionDetails(req, res);
    let result: Record<string, unknown>;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: OIDC_ACCOUNT } };
    } else {
      const grant = details.grantId
        ? ((await provider.Grant.find(details.grantId)) ??
          new provider.Grant({ accountId: OIDC_ACCOUNT, clientId: String(details.params.client_id) }))
        : new provider.Grant({ accountId: details.session?.accountId ?? OIDC_ACCOUNT, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
        grant.addResourceScope(indicator, scopes.join(' '));
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
}

export function startOidcProvider(redirectUri?: string, options?: OidcHarnessOptions): Promise<OidcHarness> {
  return new OidcHarness(redirectUri, options).start();
}
