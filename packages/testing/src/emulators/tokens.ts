import { opaque } from '../http.js';

/** Access tokens an emulator issued, with their expiry on the emulator's clock. */
export class TokenBook {
  readonly #expiry = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A new token living `seconds` (forever when undefined). */
  issue(prefix: string, seconds?: number): string {
    const token = opaque(prefix);
    this.#expiry.set(token, seconds === undefined ? Number.POSITIVE_INFINITY : this.#now() + seconds * 1000);
    return token;
  }

  isValid(token: string | undefined): boolean {
    const expiry = token === undefined ? undefined : this.#expiry.get(token);
    return expiry !== undefined && this.#now() < expiry;
  }

  revoke(token: string): void {
    this.#expiry.delete(token);
  }

  /** Makes every issued token stale, as a server-side expiry or key rotation would. */
  revokeAll(): void {
    this.#expiry.clear();
  }
}
