// Shared by the property groups: one seed for the whole run, a case counter
// each group prints, a bound on the time of each case, and the renderings a
// planted canary must never reach.
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';
import { PorticoError } from '../../packages/auth/src/index.ts';

/** Fixed unless PORTICO_PROPERTY_SEED says otherwise, so a failure replays. */
const SEED = Number(process.env.PORTICO_PROPERTY_SEED ?? 20_261_201);
/** A share of each property's cases (default all): `pnpm mutation` runs a fifth, once per mutant. */
const RUNS_SCALE = Number(process.env.PORTICO_PROPERTY_RUNS_SCALE ?? 1);
/** Generous for an in-memory exchange; a case that takes longer is hanging. */
const CASE_MS = 5_000;

/** Counts the generated cases of a group and prints the count when the file ends. */
export function group(name: string) {
  const counts = new Map<string, number>();
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts].map(([property, n]) => `${property} ${n}`).join(', ');
    console.log(`property ${name}: ${total} generated cases (seed ${SEED}): ${parts}`);
  });
  return {
    /** fast-check parameters for one property; `count()` inside the predicate counts a case. */
    params: (numRuns: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)), endOnFailure: true }),
    counter: (property: string) => () => counts.set(property, (counts.get(property) ?? 0) + 1),
  };
}

/** `promise`, or a failure naming `what` once CASE_MS have passed. */
export async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${CASE_MS} ms`)), CASE_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of `run`: its value, or the error it threw (sync or async). */
export async function outcome<T>(run: () => T | Promise<T>, what: string): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await bounded(Promise.resolve().then(run), what) };
  } catch (error) {
    if (error instanceof Error && error.message.endsWith(`within ${CASE_MS} ms`)) throw error;
    return { ok: false, error };
  }
}

/** Asserts `error` is a PorticoError whose code is one of `codes`. */
export function expectPorticoError(error: unknown, codes: readonly string[]): void {
  if (!(error instanceof PorticoError)) throw new Error(`not a PorticoError: ${inspect(error)}`);
  expect(codes, inspect(error)).toContain(error.code);
}

/** What a log line or an error report can show of a value: message, stack, inspect, JSON, down the cause chain. */
export function renderings(value: unknown): string[] {
  const out: string[] = [];
  let current = value;
  for (let i = 0; current !== undefined && current !== null && i < 10; i++) {
    out.push(inspect(current, { depth: Infinity }), JSON.stringify(current) ?? '', String(current));
    if (!(current instanceof Error)) break;
    out.push(current.message, current.stack ?? '');
    current = current.cause;
  }
  return out;
}

/** A secret to plant: long enough that redaction treats it as a credential, and easy to find. */
export const canary = (kind: string) => `canary${kind}${crypto.randomUUID().replace(/-/g, '')}`;

// A tail of the characters each wire spelling writes differently (JSON escapes `"` and `\`, forms
// write a space as `+`, percent-encoding escapes `%`): a canary with one is found only if every spelling is cut.
const awkward = (unit: string[]) => fc.string({ unit: fc.constantFrom(...unit), minLength: 1, maxLength: 6 });
/** For a client secret or a password: any character but line breaks and NUL. */
export const secretTail = awkward(['"', '\\', ' ', '+', '%', '/', '&', '=', 'é', '\u2028', '\u0001']);
/** For a refresh token: visible ASCII or space (RFC 6749 appendix A.17). */
export const refreshTail = awkward(['"', '\\', ' ', '+', '%', '/', '&', '=']);

/** Asserts that no canary, in any wire spelling, is in any of `texts`. */
export function expectNoCanary(texts: readonly string[], canaries: readonly string[], where: string): void {
  const spellings = canaries.flatMap((c) => [
    c,
    encodeURIComponent(c),
    new URLSearchParams({ v: c }).toString().slice(2),
    JSON.stringify(c).slice(1, -1),
  ]);
  for (const text of texts)
    for (const c of spellings) if (text.includes(c)) throw new Error(`${where} leaked a canary: ${text.slice(0, 300)}`);
}

/** Text of any kind: ASCII, full Unicode, and the characters parsers trip on. */
export const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.constantFrom(
        '<',
        '>',
        '&',
        ';',
        '"',
        "'",
        '=',
        '/',
        '?',
        '!',
        '[',
        ']',
        '#',
        'x',
        '1',
        'a',
        ' ',
        '\n',
        '\r',
        '\t',
        '\0',
        '$',
        '%',
        '\\',
        ':',
        '.',
        '-',
      ),
      maxLength,
    }),
  );

/** A logger that keeps every line as it would be printed. */
export function memoryLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${JSON.stringify(fields)} ${inspect(fields, { depth: Infinity })}`);
  return { lines, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } };
}
