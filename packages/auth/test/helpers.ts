import { inspect } from 'node:util';
import { expect } from 'vitest';

/** A clock the test moves by hand; shared by the client and the emulator so expiry is deterministic. */
export class FakeClock {
  time = Date.UTC(2025, 0, 15, 12, 0, 0);
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Everything a log line could show of an error: message, deep inspect, JSON, and the cause chain's own text. */
function renderings(error: unknown): string[] {
  const out = [inspect(error, { depth: Infinity, showHidden: false }), JSON.stringify(error)];
  let current: unknown = error;
  for (let i = 0; current !== undefined && i < 10; i++) {
    if (current instanceof Error) {
      out.push(current.message, current.stack ?? '', inspect(current, { depth: Infinity }), JSON.stringify(current) ?? '');
      out.push(...Object.values(current).map((value) => (typeof value === 'string' ? value : inspect(value, { depth: Infinity }))));
      current = current.cause;
    } else {
      out.push(inspect(current, { depth: Infinity }));
      current = undefined;
    }
  }
  return out;
}

/** Asserts that none of the secrets, in any wire spelling, shows up in any rendering of `error`. */
export function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  expect(error).toBeInstanceOf(Error);
  const spellings = secrets.flatMap((s) => [
    s,
    encodeURIComponent(s),
    new URLSearchParams({ v: s }).toString().slice(2),
    JSON.stringify(s).slice(1, -1),
  ]);
  for (const text of renderings(error)) {
    for (const secret of spellings) expect(text, `leaked ${secret}`).not.toContain(secret);
  }
}

export { rejectionOf } from '@portico/testing';
