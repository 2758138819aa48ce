// Webhook verification below what the Finexer suite covers: the words of each
// refusal, which header of a plain record is read, how the header's parts are
// split (spaces, parts that are no key=value pair), a secret that is not a
// string, and a provider whose timestamps are unix seconds. Each test pins
// behaviour a StrykerJS mutant of src/webhooks.ts changed without any other
// test noticing.
import { createHmac } from 'node:crypto';
import { ConfigurationError } from '@portico/auth';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../finexer/src/index.ts';
import { defineVerifyWebhook, type WebhookFailure, type WebhookSignature, WebhookVerificationError } from '../src/webhooks.ts';
import { rejectionOf } from './helpers.ts';

const SECRET = 'whsec_mutants_0123456789';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const event = { id: 'evt_1', type: 'consent.accepted', data: { object: { id: 'con_1', object: 'consent', status: 'authorized' } } };
const body = JSON.stringify(event);
const ISO_NOW = new Date(NOW).toISOString();

const hmac = (stamp: string, raw: string, secret = SECRET) => createHmac('sha256', secret).update(`${stamp}.${raw}`).digest('hex');
/** Finexer's header (`t=<ISO time>;s=<hex>`) for `raw`, signed at `stamp`. */
const finexerHeader = (raw = body, stamp = ISO_NOW, secret = SECRET) => `t=${stamp};s=${hmac(stamp, raw, secret)}`;

async function refusal(promise: Promise<unknown>, reason: WebhookFailure, message: string) {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  expect(error).toMatchObject({ code: 'webhook_verification_failed', reason, message });
  // What a log line shows: the class by name (minifiers rename classes), then the message.
  expect(String(error)).toBe(`WebhookVerificationError: ${message}`);
}

describe('what a refusal says', () => {
  it('each refusal says why, naming the header and its form where the header is at fault', async () => {
    const cases: [unknown, string | undefined, WebhookFailure, string][] = [
      [body, undefined, 'missing_header', 'no fx-signature header'],
      [body, 'garbage', 'malformed_header', 'fx-signature is not of the form t=<time>;s=<hex>'],
      [
        body,
        finexerHeader(body, new Date(NOW - 301_000).toISOString()),
        'stale_timestamp',
        "the signature's timestamp is outside the 300 s tolerance",
      ],
      [event, finexerHeader(), 'invalid_payload', 'pass the body as received (a string or bytes), before any JSON parsing'],
      [`${body} `, finexerHeader(), 'signature_mismatch', 'the signature does not match the body and secret'],
      ['not json', finexerHeader('not json'), 'invalid_payload', 'the body is not JSON in UTF-8'],
    ];
    for (const [raw, header, reason, why] of cases) {
      const headers = header === undefined ? {} : { 'fx-signature': header };
      await refusal(verifyWebhook(raw as string, headers, SECRET, { now: NOW }), reason, `Webhook rejected: ${why}`);
    }
  });

  it.each([
    ['an empty secret', '', {}, 'verifying a webhook needs the signing secret (a non-empty string)'],
    ['a tolerance below 0', SECRET, { toleranceSec: -1 }, 'toleranceSec must be a finite number of seconds, 0 or more'],
    ['a clock that is not a time', SECRET, { now: Number.NaN }, 'now must be a finite time in ms since the epoch'],
  ])('a configuration error for %s says what is needed', async (_name, secret, options, message) => {
    const error = await rejectionOf(verifyWebhook(body, { 'fx-signature': finexerHeader() }, secret, { now: NOW, ...options }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ message });
  });
});

describe('the signing secret', () => {
  it.each([
    ['undefined (an unset variable)', undefined, SECRET],
    // Signed with the number's digits, so only the type check can refuse it.
    ['a number', 12345, '12345'],
  ])('a secret that is %s is a ConfigurationError, not a key', async (_name, secret, signedWith) => {
    const headers = { 'fx-signature': finexerHeader(body, ISO_NOW, signedWith) };
    const error = await rejectionOf(verifyWebhook(body, headers, secret as unknown as string, { now: NOW }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ message: 'verifying a webhook needs the signing secret (a non-empty string)' });
  });
});

describe('the signature header', () => {
  it('in a plain record, the declared header is read among the others, and no other header stands in for it', async () => {
    const others = { 'content-type': 'application/json', 'user-agent': 'Finexer-Webhooks/1.0' };
    await expect(verifyWebhook(body, { ...others, 'fx-signature': finexerHeader() }, SECRET, { now: NOW })).resolves.toEqual(event);
    // A genuine signature under other names: one close to the declared, and
    // the name an unset variable becomes as a property key.
    const misplaced = { ...others, 'x-fx-signature': finexerHeader(), undefined: finexerHeader() };
    await refusal(verifyWebhook(body, misplaced, SECRET, { now: NOW }), 'missing_header', 'Webhook rejected: no fx-signature header');
  });

  it('spaces around the parts, as in `t=<time> ; s=<hex>`, belong to no key or value: the timestamp signed is the one without them', async () => {
    const [t, s] = finexerHeader().split(';') as [string, string];
    await expect(verifyWebhook(body, { 'fx-signature': `${t} ; ${s}` }, SECRET, { now: NOW })).resolves.toEqual(event);
  });

  it.each(['t0', 's0'])('a part without "=" (here %s, after the genuine pairs) is no key=value pair: it is skipped', async (bare) => {
    await expect(verifyWebhook(body, { 'fx-signature': `${finexerHeader()};${bare}` }, SECRET, { now: NOW })).resolves.toEqual(event);
  });
});

describe('a provider whose timestamps are unix seconds', () => {
  // Stripe's layout: `t=<seconds>,v1=<hex>`.
  const rules: WebhookSignature = {
    header: 'Webhook-Signature',
    separator: ',',
    timestampKey: 't',
    signatureKey: 'v1',
    signedPayload: '{timestamp}.{body}',
    algorithm: 'HMAC-SHA256',
    encoding: 'hex',
    timestampFormat: 'unix',
    toleranceSec: 300,
  };
  const verify = defineVerifyWebhook<typeof event>(rules);
  const signedAt = (ms: number) => {
    const stamp = String(ms / 1000);
    return { 'webhook-signature': `t=${stamp},v1=${hmac(stamp, body)}` };
  };

  it('reads the timestamp as seconds: inside the tolerance either side is accepted, outside it is stale', async () => {
    for (const skew of [0, -299_000, 299_000])
      await expect(verify(body, signedAt(NOW + skew), SECRET, { now: NOW })).resolves.toEqual(event);
    for (const skew of [-301_000, 301_000]) {
      await refusal(
        verify(body, signedAt(NOW + skew), SECRET, { now: NOW }),
        'stale_timestamp',
        "Webhook rejected: the signature's timestamp is outside the 300 s tolerance",
      );
    }
  });

  it("a malformed header is described in the provider's own form", async () => {
    await refusal(
      verify(body, { 'webhook-signature': 'v1=00' }, SECRET, { now: NOW }),
      'malformed_header',
      'Webhook rejected: Webhook-Signature is not of the form t=<time>,v1=<hex>',
    );
  });
});
