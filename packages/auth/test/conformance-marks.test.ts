// The conformance suite refuses stores whose spending marks would not hold
// another process off a spent refresh token (review 10, finding 5): marks
// that fade before a waiter would give up on them, marks kept per instance,
// and a store with spendingMarks tested without `peer`.
import { describe, expect, it } from 'vitest';
import { MemoryTokenStore, type SpendingMark, type StoredTokens, type TokenStore, type Tokens } from '../src/index.js';
import { describeTokenStore } from '../src/testing/index.js';

/** A store over `inner` that keeps spendingMarks, with `keeps` deciding whether a mark read back is still there. */
function markingStore(
  inner: MemoryTokenStore,
  keeps: (written: { at: number; by: TokenStore }, reader: TokenStore) => boolean,
): TokenStore {
  const marks = new Map<string, { mark: SpendingMark; version: number; at: number; by: TokenStore }>();
  const store: TokenStore = {
    spendingMarks: true,
    get: async (key) => {
      const stored = await inner.get(key);
      const written = marks.get(key);
      if (stored === undefined || written?.version !== stored.version || !keeps(written, store))
        return stored && { tokens: stored.tokens, version: stored.version };
      return { ...stored, spending: written.mark } satisfies StoredTokens;
    },
    set: async (key: string, tokens: Tokens, expected: number, spending?: SpendingMark) => {
      const version = await inner.set(key, tokens, expected);
      if (version !== undefined && spending !== undefined) marks.set(key, { mark: spending, version, at: performance.now(), by: store });
      return version;
    },
    delete: (key, expected) => inner.delete(key, expected),
    lock: (key, fn, signal) => inner.lock(key, fn, signal),
  };
  return store;
}

/** The suite's spending-marks test, run on `create` and `peer`. */
async function spendingMarksTest(options: Parameters<typeof describeTokenStore>[1]): Promise<void> {
  const tests = new Map<string, () => Promise<void>>();
  describeTokenStore('probe', options, { describe: (_name, fn) => fn(), it: (name, fn) => tests.set(name, fn) });
  const [, test] = [...tests].find(([name]) => name.startsWith('spending marks'))!;
  await test();
}

describe('the conformance suite and spending marks (review 10, finding 5)', () => {
  it('refuses a store whose marks fade after two seconds', async () => {
    const inner = new MemoryTokenStore();
    const store = markingStore(inner, ({ at }) => performance.now() - at < 2_000);
    await expect(spendingMarksTest({ create: () => store, peer: () => ({ ...store }) })).rejects.toThrow(/more than three beats/);
  });

  it('refuses a store that keeps its marks per instance, and one with spendingMarks tested without peer', async () => {
    const inner = new MemoryTokenStore();
    const perInstance = (): TokenStore => markingStore(inner, ({ by }, reader) => by === reader);
    await expect(spendingMarksTest({ create: perInstance, peer: perInstance })).rejects.toThrow(/get after a marked set/);
    await expect(spendingMarksTest({ create: () => markingStore(inner, () => true) })).rejects.toThrow(/tested with `peer`/);
  });

  it('passes a store whose marks stand for every instance until the next write', async () => {
    const inner = new MemoryTokenStore();
    const shared = markingStore(inner, () => true);
    const view: TokenStore = { ...shared };
    await expect(spendingMarksTest({ create: () => shared, peer: () => view })).resolves.toBeUndefined();
  });
});
