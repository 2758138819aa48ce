// `@portico/auth/internal`: what the other Portico packages share with auth
// and users have no call for. Not covered by semver: it changes with them.

export { abortable } from './deadline.js';
export { heldSecrets } from './held.js';
export { observe, unsavedWritten } from './lifecycle.js';
export { readLimited } from './limited.js';
export { resolvePointer } from './pointer.js';
export { isSensitiveKey, redact, redactSecrets, spellings } from './redact.js';
export { sleep } from './sleep.js';
export { toSpending } from './store.js';
export { toTokens } from './tokens.js';
