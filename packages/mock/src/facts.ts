// What a provider's auth profile says about the parties of its grants: which
// values are the client's own (its id, its secret, an app secret) and which a
// user brings (Dapi's access code from Connect). Read by the mock at run time
// and by its generator for the types, so both agree. Imports nothing but
// types, like values.ts, so the generator runs before any package is built.
import type { AuthProfile, ParameterMap } from '@portico/auth';

const TEMPLATE = /^\{([^{}]+)\}$/;

/** The `{name}` a parameter's template names, or undefined for a literal. */
export const templateName = (value: string): string | undefined => TEMPLATE.exec(value)?.[1];

/** The template names a parameter map uses. */
export const templatesOf = (parameters: ParameterMap | undefined): string[] =>
  Object.values(parameters ?? {}).flatMap((value) => templateName(value) ?? []);

/** The profile's parameter maps: the authorization request, each grant's token request, the revocation. */
function parameterMaps(profile: AuthProfile): ParameterMap[] {
  return [
    profile.authorization?.parameters ?? {},
    ...Object.values(profile.token.grants).map((grant) => grant?.parameters ?? {}),
    profile.revocation?.parameters ?? {},
  ];
}

/**
 * The extra inputs that are the client's own, not a user's: those every
 * request that takes extra inputs takes (Dapi's `appSecret`, sent with the
 * exchange and with DelinkUser, where the access code goes only to one).
 */
export function clientInputs(profile: AuthProfile): string[] {
  const lists = [...Object.values(profile.token.grants).map((grant) => grant?.inputs), profile.revocation?.inputs].filter(
    (list): list is string[] => list !== undefined && list.length > 0,
  );
  if (lists.length < 2) return [];
  return lists[0]!.filter((name) => lists.every((list) => list.includes(name)));
}

/** The extra inputs a user brings (what a Connect-style front end hands the app): every declared input but the client's own. */
export function userInputs(profile: AuthProfile): string[] {
  const own = new Set(clientInputs(profile));
  const all = [...Object.values(profile.token.grants).flatMap((grant) => grant?.inputs ?? []), ...(profile.revocation?.inputs ?? [])];
  return [...new Set(all)].filter((name) => !own.has(name));
}

const SECRET_AUTHENTICATION = new Set(['client_secret_basic', 'client_secret_post']);

/** The fields of `mock.client`: what the client holds to use the provider's grants. */
export function clientFields(profile: AuthProfile): string[] {
  const templates = new Set(parameterMaps(profile).flatMap(templatesOf));
  const authentications = [profile.token.clientAuthentication, profile.revocation?.clientAuthentication];
  const secret = authentications.some((method) => method !== undefined && SECRET_AUTHENTICATION.has(method));
  return [
    ...(templates.has('clientId') || secret ? ['clientId'] : []),
    ...(templates.has('clientSecret') || secret ? ['clientSecret'] : []),
    ...(profile.authorization ? ['redirectUri'] : []),
    ...clientInputs(profile),
  ];
}

/** The auth endpoints of a profile, by the option name that moves each. */
export const ENDPOINTS = [
  ['authorization', 'authorizationUrl'],
  ['token', 'tokenUrl'],
  ['revocation', 'revocationUrl'],
] as const;

/**
 * The options of the provider package's auth functions that point them at a
 * mock: `baseUrl` where an endpoint is a path on the authorization server
 * (resolved against it), the endpoint's own URL option where it is absolute.
 */
export function authOptionNames(profile: AuthProfile): string[] {
  const names = new Set<string>();
  for (const [part, option] of ENDPOINTS) {
    const url = profile[part]?.url;
    if (url !== undefined) names.add(url.startsWith('/') ? 'baseUrl' : option);
  }
  return [...names];
}
