// (7) Memory: heap per cached session for 100,000 sessions sharing one
// in-memory token store, against a plain Map of the same token strings.
//   node --expose-gc --import tsx bench/memory.ts [--quick]
import { MemoryTokenStore } from '../packages/auth/dist/index.js';
import { oauth } from '../packages/finexer/dist/index.js';
import { type Figure, fmt, writeResult } from './lib/results.ts';

const quick = process.argv.includes('--quick');
const SESSIONS = quick ? 10_000 : 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const started = performance.now();

// Objects under measurement hang off this global, so V8's liveness analysis
// cannot free them early (a local that is not read again may be collected).
const keep = globalThis as { benchKeep?: Record<string, unknown> };
keep.benchKeep = {};

function settle(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

// Fresh strings per run (same lengths as real tokens), so both sides pay for them.
const tokenSet = (i: number) => ({
  accessToken: `at_${i.toString(36).padStart(8, '0')}_${'x'.repeat(32)}`.slice(0, 44) + i,
  refreshToken: `rt_${i.toString(36).padStart(8, '0')}_${'y'.repeat(32)}`.slice(0, 44) + i,
  expiresAt: Date.now() + 3_600_000,
});

// Baseline: what an application would keep without Portico, a Map of plain token objects.
let before = settle();
const map = new Map<string, { accessToken: string; refreshToken: string; expiresAt: number }>();
keep.benchKeep.map = map;
for (let i = 0; i < SESSIONS; i++) map.set(`user:${i}`, tokenSet(i));
const baseline = (settle() - before) / SESSIONS;
delete keep.benchKeep.map;

// Portico: a session per user on one shared MemoryTokenStore, each used once so its tokens are cached.
const flow = oauth({ clientId: 'bench-client', clientSecret: 'bench-secret-value', redirectUri: 'https://app.example/callback' });
before = settle();
const store = new MemoryTokenStore();
const sessions: ReturnType<typeof flow.session>[] = [];
keep.benchKeep.store = store;
keep.benchKeep.sessions = sessions;
for (let i = 0; i < SESSIONS; i++) {
  const t = tokenSet(i);
  const session = flow.session(
    { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt, tokenType: 'Bearer', raw: {} },
    { store, key: `user:${i}` },
  );
  await session.getAuthorization();
  sessions.push(session);
}
const withSessions = (settle() - before) / SESSIONS;
// The store alone, once the session objects are dropped (tokens stay cached under their keys).
delete keep.benchKeep.sessions;
const storeOnly = (settle() - before) / SESSIONS;
if ((await store.get('user:1'))?.tokens.accessToken !== tokenSet(1).accessToken) throw new Error('store');
delete keep.benchKeep.store;

const figures: Figure[] = [
  {
    label: 'heap per cached session (session + store entry)',
    value: withSessions,
    unit: 'B',
    baselineLabel: 'plain Map of token objects',
    baseline,
    better: 'lower',
  },
];
const details = `${SESSIONS.toLocaleString('en-US')} users, each with \`oauth().session(tokens, { store, key })\` of \`@portico/finexer\` on one shared \`MemoryTokenStore\`, each session used once (\`getAuthorization()\`) so its token set is cached in the store. Heap is \`process.memoryUsage().heapUsed\` after forced GCs (\`--expose-gc\`), before and after, divided by the number of sessions. Baseline: the same token strings kept in a \`Map<string, { accessToken, refreshToken, expiresAt }>\`, measured in the same process.

| what is kept per user | heap per user | vs plain Map |
| --- | --- | --- |
| plain Map entry (baseline) | ${fmt(baseline, 'B')} | 1.00x |
| Portico session + its cached token set | ${fmt(withSessions, 'B')} | ${(withSessions / baseline).toFixed(2)}x |
| Portico store entry only (session objects dropped) | ${fmt(storeOnly, 'B')} | ${(storeOnly / baseline).toFixed(2)}x |

For 100,000 sessions that is ${((withSessions * 100_000) / 2 ** 20).toFixed(1)} MiB, against ${((baseline * 100_000) / 2 ** 20).toFixed(1)} MiB for the bare tokens.`;
writeResult({ section: 7, title: 'Memory', figures, details, ms: performance.now() - started });
console.log(details);
