// Group 6: Finexer signs each webhook delivery with
// `fx-signature: t=<ISO time>;s=<hex HMAC-SHA256 of "<t>." + body>`.
// `verifyWebhook` (generated into packages/finexer) accepts exactly the
// genuine, fresh deliveries and says why it refuses the others.
import { createHmac } from 'node:crypto';
import { ConfigurationError } from '@portico/auth';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../finexer/src/index.ts';
import { WebhookVerificationError } from '../src/index.ts';
import { rejectionOf } from './helpers.ts';

const SECRET = 'whsec_finexer_test_0123456789';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const event = {
  id: 'evt_8KtR3wPz1NcY5d',
  type: 'consent.accepted',
  data: { object: { id: 'con_1', object: 'consent', status: 'authorized' } },
};
const body = JSON.stringify(event);

function sign(raw: string, { secret = SECRET, at = NOW }: { secret?: string; at?: number } = {}): string {
  const t = new Date(at).toISOString();
  return `t=${t};s=${createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex')}`;
}

async function refusal(promise: Promise<unknown>, reason: string) {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  expect(error).toMatchObject({ code: 'webhook_verification_failed', reason });
  return error as WebhookVerificationError;
}

describe('Finexer webhook verification', () => {
  it('a valid delivery returns the typed event', async () => {
    const verified = await finexer.verifyWebhook(body, { 'fx-signature': sign(body) }, SECRET, { now: NOW });
    expect(verified).toStrictEqual(event);
    if (verified.type === 'consent.accepted') expect(verified.data.object).toBeDefined();
  });

  it('accepts the raw bytes, a Headers object and any header-name case', async () => {
    const bytes = new TextEncoder().encode(body);
    expect(await finexer.verifyWebhook(bytes, new Headers({ 'FX-Signature': sign(body) }), SECRET, { now: NOW })).toStrictEqual(event);
    expect(await finexer.verifyWebhook(body, { 'Fx-Signature': [sign(body)] }, SECRET, { now: NOW })).toStrictEqual(event);
  });

  it('a timestamp inside the 300 s tolerance, either side, is accepted', async () => {
    for (const skew of [-299_000, 299_000]) {
      await expect(
        finexer.verifyWebhook(body, { 'fx-signature': sign(body, { at: NOW + skew }) }, SECRET, { now: NOW }),
      ).resolves.toStrictEqual(event);
    }
  });

  it('a tampered body is refused: signature_mismatch', async () => {
    const tampered = body.replace('authorized', 'revoked');
    await refusal(finexer.verifyWebhook(tampered, { 'fx-signature': sign(body) }, SECRET, { now: NOW }), 'signature_mismatch');
    // Re-serialised JSON is not the body that was signed either.
    await refusal(
      finexer.verifyWebhook(JSON.stringify(event, null, 2), { 'fx-signature': sign(body) }, SECRET, { now: NOW }),
      'signature_mismatch',
    );
  });

  it('the wrong secret is refused: signature_mismatch', async () => {
    await refusal(
      finexer.verifyWebhook(body, { 'fx-signature': sign(body, { secret: 'whsec_someone_else' }) }, SECRET, { now: NOW }),
      'signature_mismatch',
    );
  });

  it('a signature for another timestamp is refused: signature_mismatch', async () => {
    const [, s] = sign(body).split(';');
    const header = `t=${new Date(NOW + 1_000).toISOString()};${s}`;
    await refusal(finexer.verifyWebhook(body, { 'fx-signature': header }, SECRET, { now: NOW }), 'signature_mismatch');
  });

  it('a stale or future timestamp is refused: stale_timestamp', async () => {
    await refusal(
      finexer.verifyWebhook(body, { 'fx-signature': sign(body, { at: NOW - 301_000 }) }, SECRET, { now: NOW }),
      'stale_timestamp',
    );
    await refusal(
      finexer.verifyWebhook(body, { 'fx-signature': sign(body, { at: NOW + 301_000 }) }, SECRET, { now: NOW }),
      'stale_timestamp',
    );
    // A caller's own tolerance replaces the spec's.
    await refusal(
      finexer.verifyWebhook(body, { 'fx-signature': sign(body, { at: NOW - 61_000 }) }, SECRET, { now: NOW, toleranceSec: 60 }),
      'stale_timestamp',
    );
  });

  it.each([
    ['no parts', 'garbage'],
    ['no timestamp', `s=${'ab'.repeat(32)}`],
    ['no signature', `t=${new Date(NOW).toISOString()}`],
    ['a signature that is not hex', `t=${new Date(NOW).toISOString()};s=not-hex-at-all`],
    ['an empty signature', `t=${new Date(NOW).toISOString()};s=`],
    ['a timestamp that is not a date', `t=yesterday;s=${'ab'.repeat(32)}`],
    ['the wrong separator', sign(body).replace(';', ',')],
  ])('a malformed header (%s) is refused: malformed_header', async (_name, header) => {
    await refusal(finexer.verifyWebhook(body, { 'fx-signature': header }, SECRET, { now: NOW }), 'malformed_header');
  });

  it('only the whole HMAC matches: a truncated, or one byte longer, genuine signature is refused: signature_mismatch', async () => {
    const [t, s] = sign(body).split(';s=') as [string, string];
    // Two hex characters would be a 1-in-256 forgery, were a prefix enough.
    for (const cut of [s.slice(0, 2), s.slice(0, 32), s.slice(0, -2), `${s}00`, `${s}${s.slice(0, 2)}`]) {
      await refusal(finexer.verifyWebhook(body, { 'fx-signature': `${t};s=${cut}` }, SECRET, { now: NOW }), 'signature_mismatch');
    }
    // Not whole bytes: not an HMAC at all.
    for (const odd of ['', s.slice(0, 1), s.slice(0, -1), `${s}0`]) {
      await refusal(finexer.verifyWebhook(body, { 'fx-signature': `${t};s=${odd}` }, SECRET, { now: NOW }), 'malformed_header');
    }
  });

  it.each([
    ['NaN (an unset variable through Number())', { toleranceSec: Number(process.env.PORTICO_UNSET_TOLERANCE) }],
    ['Infinity', { toleranceSec: Number.POSITIVE_INFINITY }],
    ['negative', { toleranceSec: -1 }],
    ['a string', { toleranceSec: '300' as unknown as number }],
    ['a clock at NaN', { now: Number.NaN }],
    ['a clock at Infinity', { now: Number.POSITIVE_INFINITY }],
  ])('a tolerance or clock that is %s is a ConfigurationError, not a check turned off', async (_name, options) => {
    const stale = { 'fx-signature': sign(body, { at: NOW - 365 * 86_400_000 }) };
    const error = await rejectionOf(finexer.verifyWebhook(body, stale, SECRET, { now: NOW, ...options }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'configuration_error' });
  });

  it('a tolerance of 0 accepts only the exact time', async () => {
    await expect(finexer.verifyWebhook(body, { 'fx-signature': sign(body) }, SECRET, { now: NOW, toleranceSec: 0 })).resolves.toEqual(
      event,
    );
    await refusal(
      finexer.verifyWebhook(body, { 'fx-signature': sign(body, { at: NOW - 1_000 }) }, SECRET, { now: NOW, toleranceSec: 0 }),
      'stale_timestamp',
    );
  });

  it('a missing header is refused: missing_header', async () => {
    await refusal(finexer.verifyWebhook(body, {}, SECRET, { now: NOW }), 'missing_header');
    await refusal(finexer.verifyWebhook(body, new Headers({ 'x-other': '1' }), SECRET, { now: NOW }), 'missing_header');
  });

  it('a genuine signature over a body that is not JSON is refused: invalid_payload', async () => {
    await refusal(finexer.verifyWebhook('not json', { 'fx-signature': sign('not json') }, SECRET, { now: NOW }), 'invalid_payload');
  });

  it('a refusal never shows the secret or the expected signature', async () => {
    const error = await refusal(
      finexer.verifyWebhook(body.replace('authorized', 'revoked'), { 'fx-signature': sign(body) }, SECRET, { now: NOW }),
      'signature_mismatch',
    );
    const expected = sign(body.replace('authorized', 'revoked')).split(';s=')[1]!;
    for (const text of [error.message, JSON.stringify(error), String(error.stack)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(expected);
    }
  });
});
