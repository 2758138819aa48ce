// The five providers' auth profiles. Once specs/<slug>/openapi.yaml exists,
// loadProfile() reads `x-portico-auth` from it instead, so tests exercise the
// real spec data; the fixtures only stand in for specs not written yet.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { AuthProfile } from '../../auth/src/profile.js';

export type ProviderSlug = 'dexero-fd' | 'finexer' | 'fdx' | 'expertfile' | 'dapi';

export const PROVIDERS: readonly ProviderSlug[] = ['dexero-fd', 'finexer', 'fdx', 'expertfile', 'dapi'];

const apply = { header: 'Authorization', scheme: 'Bearer' };
const rfc6749Response = { accessToken: '/access_token', tokenType: '/token_type', refreshToken: '/refresh_token', scope: '/scope', expiresIn: '/expires_in' };

export const fixtureProfiles: Record<ProviderSlug, AuthProfile> = {
  'dexero-fd': {
    securityScheme: 'oauth2',
    grants: ['client_credentials'],
    token: {
      url: 'https://fd.dexero.com/oauth/token.action',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      grants: { client_credentials: { parameters: { scope: '{scope}', grant_type: 'client_credentials' } } },
      response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in', scope: '/scope' },
    },
    scope: { separator: ' ', default: ['read'] },
    apply,
  },
  finexer: {
    securityScheme: 'oauth2',
    grants: ['authorization_code', 'refresh_token'],
    authorization: {
      url: 'https://finexer.com/oauth/',
      pkce: 'none',
      state: 'recommended',
      parameters: { client_id: '{clientId}', response_type: 'code', redirect_uri: '{redirectUri}', scope: '{scope}', state: '{state}' },
      callback: { errorCode: 'error_code' },
    },
    token: {
      url: 'https://finexer.com/oauth/token',
      clientAuthentication: 'client_secret_post',
      bodyFormat: 'form',
      grants: {
        authorization_code: { parameters: { code: '{code}', grant_type: 'authorization_code' } },
        refresh_token: { parameters: { grant_type: 'refresh_token', refresh_token: '{refreshToken}' } },
      },
      response: rfc6749Response,
      error: { code: '/error', description: '/error_description' },
    },
    scope: { separator: ',' },
    refresh: { rotation: 'optional' },
    revocation: {
      url: 'https://finexer.com/oauth/revoke',
      standard: 'custom',
      clientAuthentication: 'client_secret_post',
      bodyFormat: 'form',
      parameters: { refresh_token: '{refreshToken}' },
      revokes: 'grant',
      successStatus: [204],
    },
    apply,
  },
  fdx: {
    securityScheme: 'oauth2',
    grants: ['authorization_code', 'refresh_token'],
    authorization: {
      url: '/oauth2/v4/authorize',
      pkce: 'required',
      codeChallengeMinLength: 32,
      state: 'recommended',
      parameters: {
        client_id: '{clientId}',
        redirect_uri: '{redirectUri}',
        response_type: 'code',
        code_challenge: '{codeChallenge}',
        code_challenge_method: 'S256',
        scope: '{scope}',
        state: '{state}',
      },
      requiredScopes: ['openid'],
    },
    token: {
      url: '/oauth2/v4/token',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      grants: {
        authorization_code: {
          parameters: { client_id: '{clientId}', code: '{code}', grant_type: 'authorization_code', redirect_uri: '{redirectUri}', code_verifier: '{codeVerifier}' },
        },
        refresh_token: { parameters: { client_id: '{clientId}', grant_type: 'refresh_token', refresh_token: '{refreshToken}' } },
      },
      response: rfc6749Response,
    },
    scope: { separator: ' ' },
    refresh: { rotation: 'always', refreshTokenLifetimeSeconds: 2592000 },
    revocation: {
      url: '/oauth2/v4/revoke',
      standard: 'rfc7009',
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      parameters: { token: '{token}', token_type_hint: '{tokenTypeHint}' },
      successStatus: [200],
    },
    apply,
  },
  expertfile: {
    securityScheme: 'oauth2',
    grants: ['client_credentials'],
    token: {
      url: 'https://public-api.expertfile.com/v2/oauth/token',
      clientAuthentication: 'client_secret_post',
      bodyFormat: 'form',
      grants: { client_credentials: { parameters: { grant_type: 'client_credentials' } } },
      response: { success: '/success', accessToken: '/data/accessToken', expiresAt: '/data/accessTokenExpiresAt', defaultTokenType: 'Bearer' },
      error: { description: '/msg' },
    },
    expiry: { accessTokenLifetimeSeconds: 2592000 },
    apply,
  },
  dapi: {
    securityScheme: 'bearerAuth',
    grants: ['access_code_exchange'],
    token: {
      url: '/auth/ExchangeToken',
      clientAuthentication: 'none',
      bodyFormat: 'json',
      grants: {
        access_code_exchange: {
          inputs: ['appSecret', 'accessCode', 'connectionID'],
          parameters: { appSecret: '{appSecret}', accessCode: '{accessCode}', connectionID: '{connectionID}' },
        },
      },
      response: { success: '/success', accessToken: '/accessToken', defaultTokenType: 'Bearer' },
      error: { code: '/type', description: '/msg' },
    },
    expiry: { never: true },
    revocation: {
      url: '/users/DelinkUser',
      standard: 'custom',
      clientAuthentication: 'bearer',
      bodyFormat: 'json',
      inputs: ['appSecret', 'userSecret'],
      parameters: { appSecret: '{appSecret}', userSecret: '{userSecret}' },
      revokes: 'grant',
      successStatus: [200],
      success: '/success',
    },
    apply,
  },
};

export const specPath = (slug: ProviderSlug): string => fileURLToPath(new URL(`../../../specs/${slug}/openapi.yaml`, import.meta.url));

/** The provider's profile: from its spec when the spec exists (never the fixture then), else the fixture. */
export function loadProfile(slug: ProviderSlug): { profile: AuthProfile; source: 'spec' | 'fixture' } {
  const file = specPath(slug);
  if (!existsSync(file)) return { profile: fixtureProfiles[slug], source: 'fixture' };
  const document = parse(readFileSync(file, 'utf8')) as { 'x-portico-auth'?: AuthProfile } | null;
  const profile = document?.['x-portico-auth'];
  if (profile === undefined) throw new Error(`${file} has no x-portico-auth`);
  return { profile, source: 'spec' };
}
