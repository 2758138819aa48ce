// Defect 2: the HMAC is computed over the exact bytes received. No template
// substitution may read `$&`, `$'` or `$$` in a body, and raw bytes are not
// decoded (lossily) before they are hashed.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { WebhookVerificationError } from '../../src/index.ts';
import { rejectionOf } from '../helpers.ts';

const SECRET = 'whsec_finexer_test_0123456789';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const T = new Date(NOW).toISOString();

const sign = (raw: string | Uint8Array) => `t=${T};s=${createHmac('sha256', SECRET).update(`${T}.`).update(raw).digest('hex')}`;

describe('webhook signatures cover the bytes received', () => {
  it.each([`{"id":"evt_1","note":"costs $' and $& and $$5 and $\`"}`, '{"id":"evt_1","amount":"$5"}'])(
    'a genuine body with $-patterns verifies: %s',
    async (body) => {
      await expect(finexer.verifyWebhook(body, { 'fx-signature': sign(body) }, SECRET, { now: NOW })).resolves.toEqual(JSON.parse(body));
    },
  );

  it('a body changed from "$5" to "$$5" is refused with the original signature', async () => {
    const header = sign('{"amount":"$5"}');
    const error = await rejectionOf(finexer.verifyWebhook('{"amount":"$$5"}', { 'fx-signature': header }, SECRET, { now: NOW }));
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect(error).toMatchObject({ reason: 'signature_mismatch' });
  });

  it('a genuine body with a UTF-8 BOM verifies from its bytes', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"id":"evt_bom"}')]);
    await expect(finexer.verifyWebhook(bytes, { 'fx-signature': sign(bytes) }, SECRET, { now: NOW })).resolves.toEqual({ id: 'evt_bom' });
  });

  it('bytes that are not UTF-8 are checked as bytes: 0xFE does not verify with the signature of 0xFF', async () => {
    const withFF = new Uint8Array([...new TextEncoder().encode('{"id":"'), 0xff, ...new TextEncoder().encode('"}')]);
    const withFE = withFF.map((b) => (b === 0xff ? 0xfe : b));
    const genuine = await rejectionOf(finexer.verifyWebhook(withFF, { 'fx-signature': sign(withFF) }, SECRET, { now: NOW }));
    // Genuine, but not JSON text: refused for what it is, not as forged.
    expect(genuine).toMatchObject({ reason: 'invalid_payload' });
    const forged = await rejectionOf(finexer.verifyWebhook(withFE, { 'fx-signature': sign(withFF) }, SECRET, { now: NOW }));
    expect(forged).toMatchObject({ reason: 'signature_mismatch' });
  });
});

describe('webhook verification input that is not a delivery', () => {
  it('an empty secret is a configuration error, not a DOMException', async () => {
    const body = '{"id":"evt_1"}';
    const error = await rejectionOf(finexer.verifyWebhook(body, { 'fx-signature': sign(body) }, '', { now: NOW }));
    expect(error).toMatchObject({ code: 'configuration_error' });
  });

  it('a parsed body instead of the raw one is refused as invalid_payload', async () => {
    const error = await rejectionOf(
      finexer.verifyWebhook({ id: 'evt_1' } as never, { 'fx-signature': sign('{"id":"evt_1"}') }, SECRET, { now: NOW }),
    );
    expect(error).toMatchObject({ code: 'webhook_verification_failed', reason: 'invalid_payload' });
  });
});
