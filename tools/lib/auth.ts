// What kind of credential a spec's `x-portico-auth` describes, and the rules
// the runtime applies it by. Shared by the generator, the README and lint.

import { heldCredentials, profileSchemes } from './credential-rules.js';
import type { Json } from './specs.ts';

/** The credentials the user may hold instead of (or beside) a grant, as alternatives: scheme name -> rules. */
export function credentials(doc: Json): Json[] {
  const held = heldCredentials(doc);
  if (typeof held === 'string') throw new Error(held);
  return held;
}

/** The profile sends more than one scheme, so each operation says which it takes. */
const multiScheme = (doc: Json) => profileSchemes(doc).size > 1;

/**
 * Fields of `x-portico-auth` that are for people and lint (which scheme the
 * profile satisfies, which operation documents an endpoint, which RFC it
 * follows, a lifetime the provider states, how long a code lives and how
 * the API answers a token without the scope, for @portico/mock): nothing in @portico/auth or
 * @portico/runtime reads them, so spec.ts, and users' bundles, leave them out.
 */
const UNREAD: readonly (readonly string[])[] = [
  ['description'],
  ['securityScheme'],
  ['authorization', 'operationId'],
  ['token', 'operationId'],
  ['revocation', 'operationId'],
  ['revocation', 'standard'],
  ['refresh', 'refreshTokenLifetimeSeconds'],
  ['insufficientScope'],
  ['codeLifetimeSeconds'],
];

function withoutUnread(profile: Json): Json {
  const out = structuredClone(profile);
  for (const path of UNREAD) {
    const parent = path.slice(0, -1).reduce<Json | undefined>((o, k) => o?.[k], out);
    if (parent) delete parent[path.at(-1)!];
  }
  return out;
}

/**
 * The profile as the runtime reads it: OAuth as written, with the held
 * credentials' rules under `credentials`; the OAuth scheme's name is kept
 * where operations name the scheme they take.
 */
export function runtimeProfile(doc: Json): Json {
  const profile = withoutUnread(doc['x-portico-auth']);
  const held = credentials(doc);
  if (profile.grants) {
    const { credentials: _written, ...rest } = profile;
    if (!held.length) return rest;
    return { ...rest, ...(multiScheme(doc) ? { securityScheme: doc['x-portico-auth'].securityScheme } : {}), credentials: held };
  }
  const { apply: _apply, credentials: _written, ...rest } = profile;
  return { ...rest, credentials: held };
}
