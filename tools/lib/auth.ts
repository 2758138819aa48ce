// What kind of credential a spec's `x-portico-auth` describes, and the rules
// the runtime applies it by. Shared by the generator, the README and lint.

import { credentialRules } from './credential-rules.js';
import type { Json } from './specs.ts';

export type Flavour = 'oauth' | 'apiKey' | 'basic' | 'bearer';

export function flavour(doc: Json): Flavour {
  if (doc['x-portico-auth'].grants) return 'oauth';
  const rules = credentialRules(doc);
  if (typeof rules === 'string') throw new Error(rules);
  return rules.type;
}

/**
 * Fields of `x-portico-auth` that are for people and lint (which scheme the
 * profile satisfies, which operation documents an endpoint, which RFC it
 * follows, a lifetime the provider states): nothing in @portico/auth or
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
];

function withoutUnread(profile: Json): Json {
  const out = structuredClone(profile);
  for (const path of UNREAD) {
    const parent = path.slice(0, -1).reduce<Json | undefined>((o, k) => o?.[k], out);
    if (parent) delete parent[path.at(-1)!];
  }
  return out;
}

/** The profile as the runtime reads it: OAuth as written; otherwise with the scheme's rules under `credential`. */
export function runtimeProfile(doc: Json): Json {
  const profile = withoutUnread(doc['x-portico-auth']);
  if (profile.grants) return profile;
  const { apply: _apply, ...rest } = profile;
  return { ...rest, credential: credentialRules(doc) };
}
