// Signing a webhook delivery exactly as the provider does, from its
// x-portico-webhook-signature: the header, its parts, the signed payload
// template, HMAC-SHA256 and the timestamp format.
import type { WebhookSignature } from '@portico/runtime';

/** A signed delivery: the body to send as it is, and the headers to send with it. */
export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

export async function signWebhook(rules: WebhookSignature, secret: string, body: string, at: Date): Promise<SignedWebhook> {
  const timestamp = rules.timestampFormat === 'unix' ? String(Math.floor(at.getTime() / 1000)) : at.toISOString();
  const payload = rules.signedPayload.replace(/\{timestamp\}|\{body\}/g, (part) => (part === '{timestamp}' ? timestamp : body));
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(payload)));
  // `hex` is the one encoding the extension's schema allows.
  const signature = [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
  const value = [`${rules.timestampKey}=${timestamp}`, `${rules.signatureKey}=${signature}`].join(rules.separator);
  return { body, headers: { [rules.header]: value, 'content-type': 'application/json' } };
}
