import type { Tokens } from './tokens.js';

/**
 * Where token sets live between requests. Share one store (and key) between
 * processes to share tokens; implement `lock` (e.g. a Redis lock) so that
 * only one of them refreshes at a time — with rotating refresh tokens a
 * second refresh would spend a dead token.
 */
export interface TokenStore {
  get(key: string): Promise<Tokens | undefined>;
  set(key: string, tokens: Tokens): Promise<void>;
  delete(key: string): Promise<void>;
  lock?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** The default store: a Map, with a per-key lock so clients sharing it in one process refresh once. */
export class MemoryTokenStore implements TokenStore {
  readonly #tokens = new Map<string, Tokens>();
  readonly #locks = new Map<string, Promise<void>>();

  async get(key: string): Promise<Tokens | undefined> {
    return this.#tokens.get(key);
  }

  async set(key: string, tokens: Tokens): Promise<void> {
    this.#tokens.set(key, tokens);
  }

  async delete(key: string): Promise<void> {
    this.#tokens.delete(key);
  }

  async lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }
}
