// Webhook verification: any header and any body end in the typed event (only
// for a genuine signature over a JSON body) or in WebhookVerificationError,
// and neither the signing secret nor a canary in the body or header reaches
// the error.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../packages/finexer/src/index.ts';
import { anyText, canary, expectNoCanary, expectPorticoError, group, outcome, renderings } from './support.ts';

const g = group('webhooks');
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const SECRET = canary('whsec');
const T = new Date(NOW).toISOString();
const sign = (bytes: Uint8Array, t = T, secret = SECRET) => createHmac('sha256', secret).update(`${t}.`).update(bytes).digest('hex');
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const isJsonText = (bytes: Uint8Array) => {
  try {
    JSON.parse(UTF8.decode(bytes));
    return true;
  } catch {
    return false;
  }
};

const body = fc.oneof(
  anyText(200),
  fc.json({ maxDepth: 3 }),
  fc.json({ maxDepth: 2 }).map((j) => j.replace(/"/, '"$\'$&$$')),
  fc.uint8Array({ maxLength: 200 }),
  fc.json({ maxDepth: 2 }).map((j) => new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(j)])),
);

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxg'), maxLength: 70 });
const stamp = fc.oneof(
  fc.constant(T),
  anyText(30),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer().map(String),
);

describe('property: webhook signature header and payload', () => {
  it('any header and body: the event only for a genuine signature over JSON, else WebhookVerificationError with its reason', async () => {
    const count = g.counter('verify');
    const leak = canary('body');
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.oneof(
          fc.constant('genuine'),
          fc.constant('tampered'),
          fc.integer({ min: 0, max: 31 }).map((bytes) => ({ truncatedTo: bytes })),
          anyText(120),
          fc.tuple(stamp, hex, fc.constantFrom(';', ',', ' ; ', ';;')).map(([t, s, sep]) => `t=${t}${sep}s=${s}`),
        ),
        fc.boolean(),
        async (raw, header, plantCanary) => {
          count();
          const original = typeof raw === 'string' ? (plantCanary ? `${raw}${leak}` : raw) : raw;
          const bytes = typeof original === 'string' ? new TextEncoder().encode(original) : original;
          const genuine = `t=${T};s=${sign(bytes)}`;
          const value =
            typeof header === 'object'
              ? `t=${T};s=${sign(bytes).slice(0, 2 * header.truncatedTo)}`
              : header === 'genuine'
                ? genuine
                : header === 'tampered'
                  ? `t=${T};s=${sign(new Uint8Array([...bytes, 0x20]))}`
                  : plantCanary
                    ? `${header}${leak}`
                    : header;
          const result = await outcome(
            () => finexer.verifyWebhook(original, { 'fx-signature': value }, SECRET, { now: NOW }),
            'verifyWebhook',
          );
          if (result.ok) {
            expect(value).toBe(genuine);
            expect(result.value).toEqual(JSON.parse(UTF8.decode(bytes)));
            return;
          }
          expectPorticoError(result.error, ['webhook_verification_failed']);
          const reason = (result.error as { reason: string }).reason;
          if (header === 'genuine') expect(reason).toBe(isJsonText(bytes) ? 'never' : 'invalid_payload');
          if (header === 'tampered') expect(reason).toBe('signature_mismatch');
          // A prefix of the genuine HMAC is no signature: a whole byte or more of it is still a mismatch.
          if (typeof header === 'object') expect(reason).toBe(header.truncatedTo === 0 ? 'malformed_header' : 'signature_mismatch');
          expectNoCanary(renderings(result.error), [SECRET, leak], 'a webhook error');
        },
      ),
      g.params(2_000),
    );
  });

  it('a genuine signature verifies whatever the body bytes, and a change of any one byte is refused', async () => {
    const count = g.counter('one-byte change');
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (json, at, flip) => {
        count();
        const bytes = new TextEncoder().encode(json);
        const header = { 'fx-signature': `t=${T};s=${sign(bytes)}` };
        await expect(finexer.verifyWebhook(bytes, header, SECRET, { now: NOW })).resolves.toEqual(JSON.parse(json));
        const changed = bytes.slice();
        changed[at % changed.length] ^= flip;
        const result = await outcome(() => finexer.verifyWebhook(changed, header, SECRET, { now: NOW }), 'verifyWebhook');
        expect(result.ok).toBe(false);
        expect(result.ok || (result.error as { reason: string }).reason).toBe('signature_mismatch');
      }),
      g.params(1_000),
    );
  });

  it('any tolerance and clock: a ConfigurationError unless both are finite and at least 0, else fresh exactly within the tolerance', async () => {
    const count = g.counter('tolerance');
    const bytes = new TextEncoder().encode('{"id":"evt_1"}');
    const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0);
    const tolerance = fc.oneof(fc.double(), fc.integer({ min: -1, max: 400 }), special);
    // Any clock a Date can hold (±8.64e15 ms), shifted by up to 400 s for the signature's time, or one that is no time at all.
    const clock = fc.oneof(fc.integer({ min: -8.6e15, max: 8.6e15 }), fc.constant(NOW), special);
    await fc.assert(
      fc.asyncProperty(tolerance, clock, fc.integer({ min: -400, max: 400 }), async (toleranceSec, now, ageSec) => {
        count();
        const t = Number.isFinite(now) ? new Date(now - ageSec * 1000).toISOString() : T;
        const header = { 'fx-signature': `t=${t};s=${sign(bytes, t)}` };
        const result = await outcome(() => finexer.verifyWebhook(bytes, header, SECRET, { now, toleranceSec }), 'verifyWebhook');
        if (!(Number.isFinite(toleranceSec) && toleranceSec >= 0) || !Number.isFinite(now)) {
          expectPorticoError(result.ok ? undefined : result.error, ['configuration_error']);
          return;
        }
        expect(result.ok, `age ${ageSec} s, tolerance ${toleranceSec} s`).toBe(Math.abs(ageSec) <= toleranceSec);
      }),
      g.params(1_000),
    );
  });
});
