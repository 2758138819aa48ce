// The secrets an Authenticator holds (a client secret and its Basic form,
// the refresh tokens it spent and holds, the last code and PKCE verifier),
// for the runtime's telemetry to refuse when a server echoes one. In a
// WeakMap, not behind a method, so no public type, JSON or inspect output
// shows them; reached only through `@portico/auth/internal`.
const held = new WeakMap<object, () => readonly string[]>();

export function holdSecrets(holder: object, secrets: () => readonly string[]): void {
  held.set(holder, secrets);
}

/** What `holder` holds now: none for an Authenticator of the user's own. */
export function heldSecrets(holder: object): readonly string[] {
  return held.get(holder)?.() ?? [];
}
