import { ResponseParseError } from './errors.js';
import { decodeXml, type XmlSchema } from './xml.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;
const XML_TYPE = /^(?:application|text)\/(?:[\w.+-]+\+)?xml\b/i;

/** Parses a body by its content type: JSON, XML (into the shape `xml` describes) or text. */
export async function parseBody(response: Response, xml: XmlSchema | undefined): Promise<unknown> {
  const contentType = response.headers.get('content-type') ?? '';
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ResponseParseError({ status: response.status, contentType, body: new TextDecoder().decode(bytes.subarray(0, 400)), reason: 'the body is not valid UTF-8' });
  }
  if (JSON_TYPE.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ResponseParseError({ status: response.status, contentType, body: text, reason: `invalid JSON (${(e as Error).message.split('\n')[0]})` });
    }
  }
  if (XML_TYPE.test(contentType) && xml) {
    try {
      return decodeXml(text, xml);
    } catch (e) {
      throw new ResponseParseError({ status: response.status, contentType, body: text, reason: `invalid XML (${(e as Error).message})` });
    }
  }
  return text;
}

/**
 * application/x-www-form-urlencoded with the bracket conventions form APIs
 * use for structure: arrays as `key[]`, objects as `key[sub]`.
 */
export function serializeForm(body: unknown): string {
  const out = new URLSearchParams();
  const add = (key: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) add(key.endsWith('[]') ? key : `${key}[]`, item);
    } else if (typeof value === 'object' && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    } else {
      out.append(key, value instanceof Date ? value.toISOString() : String(value));
    }
  };
  if (body && typeof body === 'object') for (const [k, v] of Object.entries(body)) add(k, v);
  return out.toString();
}
