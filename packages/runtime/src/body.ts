import { ConfigurationError } from '@portico/auth';
import { readLimited, redactSecrets } from '@portico/auth/internal';
import { ResponseParseError } from './errors.js';
import type { Shape, XmlCodec } from './shape.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;
const XML_TYPE = /^(?:application|text)\/(?:[\w.+-]+\+)?xml\b/i;

export const isJsonType = (type: string) => JSON_TYPE.test(type);
const isXmlType = (type: string) => XML_TYPE.test(type);

/** A spec that declares XML bodies without the codec: not one `pnpm generate` wrote. */
export const missingXmlCodec = () =>
  new ConfigurationError(
    'this spec declares XML bodies: pass the codec, defineClient({ ...spec, xml }) with xml from @portico/runtime/xml',
  );

// Stateless for whole-buffer decoding, so one instance serves every call.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface ParseOptions {
  /** Decoding schema for XML bodies. */
  shape: Shape | undefined;
  /** The XML codec, for a client whose spec declares XML. */
  xml: XmlCodec | undefined;
  /** Non-JSON media types the operation declares (text/html, application/xml, ...). */
  accepts: readonly string[] | undefined;
  maxBytes: number;
  /** Credentials a server may echo back; cut from any excerpt an error shows. */
  secrets?: () => readonly string[];
  /** An error response: a body that does not parse as declared comes back as its text instead of a ResponseParseError. */
  orText?: boolean;
}

/** What a ResponseTooLargeError of an API call suggests. */
export const MAX_BYTES_HINT = 'raise the limit in createClient({ maxResponseBytes }) if this is expected';

/** `type/subtype` of a Content-Type, lowercased, without parameters. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Parses a body by its content type: JSON, XML (into the shape the schema
 * describes) or, where the operation declares it, text. Anything else (an
 * HTML page from a proxy where JSON was promised, broken JSON or XML,
 * invalid UTF-8, an oversized body) is a typed error, never a SyntaxError.
 */
export async function parseBody(response: Response, options: ParseOptions): Promise<unknown> {
  const contentType = response.headers.get('content-type') ?? '';
  const bytes = await readLimited(response, options.maxBytes, MAX_BYTES_HINT);
  if (bytes.length === 0) return undefined;
  const fail = (body: string, reason: string): string => {
    if (options.orText) return body;
    const secrets = options.secrets?.() ?? [];
    throw new ResponseParseError({
      status: response.status,
      contentType,
      body: redactSecrets(body, secrets),
      reason: redactSecrets(reason, secrets),
    });
  };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return fail(new TextDecoder().decode(bytes), 'the body is not valid UTF-8');
  }
  const mediaType = mediaTypeOf(contentType);
  if (JSON_TYPE.test(mediaType) || (mediaType === '' && !options.accepts?.length)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      // V8 quotes a few characters of the input, which may be part of a
      // secret too short to recognise: keep only the position.
      const reason = (e as Error).message.split('\n')[0]!.replace(/^(Unexpected token '.{1,2}'), .* (is not valid JSON)$/su, '$1 $2');
      return fail(text, `invalid JSON (${reason})`);
    }
  }
  // XML only where the operation declares it: an XML body from a JSON-only
  // endpoint is as wrong as HTML, even when it happens to fit the shape.
  if (XML_TYPE.test(mediaType) && options.shape && options.accepts?.some(isXmlType)) {
    if (!options.xml) throw missingXmlCodec();
    try {
      return options.xml.decode(text, options.shape);
    } catch (e) {
      return fail(text, `invalid XML (${(e as Error).message})`);
    }
  }
  if (options.accepts?.some((t) => t === mediaType || t === '*/*' || (t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1)))))
    return text;
  return fail(
    text,
    `expected ${options.accepts?.length ? `JSON or ${options.accepts.join(', ')}` : 'JSON'}, got ${mediaType || 'no content type'}`,
  );
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
