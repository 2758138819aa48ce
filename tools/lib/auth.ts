// What kind of credential a spec's `x-portico-auth` describes, and the rules
// the runtime applies it by. Shared by the generator, the README and lint.
import type { Json } from './specs.ts';
import { credentialRules } from './credential-rules.js';

export type Flavour = 'oauth' | 'apiKey' | 'basic' | 'bearer';

export function flavour(doc: Json): Flavour {
  if (doc['x-portico-auth'].grants) return 'oauth';
  const rules = credentialRules(doc);
  if (typeof rules === 'string') throw new Error(rules);
  return rules.type;
}

/** The profile as the runtime reads it: OAuth as written; otherwise with the scheme's rules under `credential`. */
export function runtimeProfile(doc: Json): Json {
  const profile = doc['x-portico-auth'];
  if (profile.grants) return profile;
  const { apply: _apply, ...rest } = profile;
  return { ...rest, credential: credentialRules(doc) };
}
