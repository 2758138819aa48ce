// Retry-After and retry-after-ms: any header value gives a finite delay of at
// least 0, or none (normal backoff); digits and HTTP-dates mean what RFC 9110
// says. Through a client, any value ends in the response or a typed error,
// within the client's own bound on waiting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../packages/finexer/src/index.ts';
import { retryAfterMs } from '../../packages/runtime/src/transport.ts';
import { anyText, bounded, expectNoCanary, expectPorticoError, group, memoryLogger } from './support.ts';

const g = group('retry-after');
const NOW = Date.UTC(2026, 0, 1);
const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const httpDate = fc
  .date({ min: new Date(NOW - 1e10), max: new Date(NOW + 1e10), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
const value = fc.oneof(
  anyText(40),
  fc.stringMatching(/^[0-9]{1,15}$/),
  fc.stringMatching(/^[-+ ]?[0-9]{0,4}(\.[0-9]{0,3})?(e[0-9])?$/),
  httpDate.map((d) => d.toUTCString()),
  httpDate.map((d) => d.toUTCString().replace(' GMT', ' UTC')),
  httpDate.map(
    (d) =>
      `${DAY[d.getUTCDay()]} ${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`,
  ),
);

/** Headers with `name: value`, or undefined when Headers itself refuses the value (not a response a client can get). */
function headersWith(name: string, raw: string): Headers | undefined {
  try {
    return new Headers({ [name]: raw });
  } catch {
    return undefined;
  }
}

describe('property: Retry-After', () => {
  it('any value is no delay or a finite delay >= 0; digits are seconds, an IMF-fixdate its distance from now', () => {
    const count = g.counter('parse');
    fc.assert(
      fc.property(fc.constantFrom('retry-after', 'retry-after-ms'), value, (name, raw) => {
        const headers = headersWith(name, raw);
        fc.pre(headers !== undefined);
        count();
        const ms = retryAfterMs(headers!, NOW);
        if (ms !== undefined) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
        const v = headers!.get(name)!;
        if (name === 'retry-after' && /^\d+$/.test(v)) expect(ms).toBe(Number(v) * 1000);
        if (name === 'retry-after' && !/^\d+$/.test(v) && !/ GMT$|\d{4}$/.test(v)) expect(ms).toBeUndefined();
        if (name === 'retry-after' && /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v))
          expect(ms).toBe(Math.max(0, Date.parse(v) - NOW));
      }),
      g.params(3_000),
    );
  });

  it('through a client: a 503 with any Retry-After waits what the header says, or the normal backoff, or returns the 503', async () => {
    const count = g.counter('client');
    const stop = new Error('stopped at the retry sleep');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('retry-after', 'retry-after-ms'), value, async (name, raw) => {
        const headers = headersWith(name, raw);
        fc.pre(headers !== undefined);
        count();
        const token = `tok${'0'.repeat(20)}`;
        const log = memoryLogger();
        const controller = new AbortController();
        let delay: number | undefined;
        const logger = {
          ...log.logger,
          warn: (message: string, fields?: Record<string, unknown>) => {
            log.logger.warn(message, fields);
            // The client announces each sleep before it starts: stop there instead of sleeping.
            if (message.endsWith('retrying')) {
              delay = fields!.delayMs as number;
              controller.abort(stop);
            }
          },
        };
        const client = finexer.createClient({
          baseUrl: 'https://api.example.test',
          auth: { accessToken: token },
          maxRetries: 1,
          logger,
          logLevel: 'debug',
          fetch: async () =>
            new Response('{"error":{"message":"busy"}}', {
              status: 503,
              headers: { 'content-type': 'application/json', [name]: headers!.get(name)! },
            }),
        });
        const asked = retryAfterMs(headers!);
        try {
          const { error, response } = await bounded(client.GET('/customers', { signal: controller.signal }), 'GET with Retry-After');
          // Returned without a retry: only when the server asked for more than maxRetryDelay.
          expect(response.status).toBe(503);
          expect(error).toEqual({ error: { message: 'busy' } });
          expect(asked).toBeGreaterThan(60_000);
        } catch (e) {
          if (e !== stop) expectPorticoError(e, []);
          if (asked === undefined) expect(delay).toBeGreaterThanOrEqual(375);
          else if (!/^\d/.test(headers!.get(name)!)) expect(delay).toBeLessThanOrEqual(Math.round(asked) + 1_000);
          else expect(delay).toBe(Math.round(asked));
          expect(delay).toBeLessThanOrEqual(60_000);
        }
        expectNoCanary(log.lines, [token], 'the log');
      }),
      g.params(300),
    );
  });
});
