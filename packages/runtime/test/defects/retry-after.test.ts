// Defect 7: Retry-After is delay-seconds (digits) or an HTTP-date (RFC 9110
// §10.2.3); anything else is ignored and the normal backoff applies.
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/transport.ts';

const NOW = Date.UTC(1994, 10, 6, 8, 49, 0);
const after = (value: string, name = 'retry-after') => retryAfterMs(new Headers({ [name]: value }), NOW);

describe('Retry-After is parsed as RFC 9110 allows', () => {
  it.each([
    '-5',
    '0x10',
    '1e3',
    '1.5',
    '+3',
    ' ',
    '5s',
    'Infinity',
    '-0',
    'Sun, 06 Nov 1994',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 32 Nov 1994 08:49:37 GMT',
    'tomorrow',
  ])('%j is ignored', (value) => {
    expect(after(value)).toBeUndefined();
  });

  it.each([
    ['0', 0],
    ['120', 120_000],
    ['007', 7_000],
    ['1994', 1_994_000],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37_000],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37_000],
    ['Sun Nov  6 08:49:37 1994', 37_000],
    ['Sun, 06 Nov 1994 08:48:00 GMT', 0],
  ] as const)('%j waits %i ms', (value, ms) => {
    expect(after(value)).toBe(ms);
  });

  it('retry-after-ms takes digits (with an optional fraction) only', () => {
    expect(after('250', 'retry-after-ms')).toBe(250);
    expect(after('12.5', 'retry-after-ms')).toBe(12.5);
    for (const bad of ['-5', '0x10', '1e3', '5abc']) expect(after(bad, 'retry-after-ms')).toBeUndefined();
  });
});
