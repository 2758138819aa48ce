// The log of requests a mock received, for a test to read: every credential
// cut out. Three layers: headers that carry credentials, parameters and body
// fields whose name is a credential's (by the usual names, and by the
// profile's own: Dapi's `appSecret`, an authorization `code`), and then every
// secret value the mock knows (the client's secrets, in every spelling; the
// tokens, codes and user secrets it issued, by their shape) wherever else it
// appears.
import type { AuthProfile } from '@portico/auth';
import { isSensitiveKey, redactSecrets } from '@portico/auth/internal';
import { templatesOf } from './facts.js';

/** One request as the mock received it, with its credentials redacted. */
export interface LoggedRequest {
  readonly method: string;
  /** The URL as requested, secret query parameters redacted. */
  readonly url: string;
  /** The spec's operationId it reached, if any. */
  readonly operationId?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text, secret fields redacted, its first 64 KiB; undefined when empty or when no operation took it. */
  readonly body?: string;
  /** When it arrived, on the mock's clock. */
  readonly at: number;
}

const REDACTED = '[redacted]';
/** A mock that runs for long (`portico mock` never resets) keeps this many requests, and this much of each body: a bounded log. */
const MAX_ENTRIES = 1000;
const MAX_BODY = 64 * 1024;
// Template names whose values are credentials (as in @portico/auth's endpoint requests).
const SECRET_TEMPLATES = new Set(['clientSecret', 'code', 'codeVerifier', 'refreshToken', 'accessToken', 'token']);
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** The wire names of the profile's parameters that carry a credential (or any extra input, as auth treats them). */
export function secretNames(profile: AuthProfile): Set<string> {
  const names = new Set<string>(['client_secret', 'code', 'code_verifier', 'refresh_token', 'access_token', 'token']);
  const maps = [
    profile.authorization?.parameters,
    ...Object.values(profile.token.grants).map((grant) => grant?.parameters),
    profile.revocation?.parameters,
  ];
  const inputs = new Set([...Object.values(profile.token.grants).flatMap((g) => g?.inputs ?? []), ...(profile.revocation?.inputs ?? [])]);
  for (const map of maps) {
    for (const [wire, value] of Object.entries(map ?? {})) {
      const [template] = templatesOf({ [wire]: value });
      if (template !== undefined && (SECRET_TEMPLATES.has(template) || inputs.has(template))) names.add(wire);
    }
  }
  return names;
}

export class RequestLog {
  readonly #entries: LoggedRequest[] = [];
  readonly #names: Set<string>;
  readonly #secrets: readonly string[];
  readonly #issued: RegExp;

  /** `secrets`: values cut in every spelling; `issued`: the shape of the values the mock issues, cut wherever they appear. */
  constructor(names: Set<string>, secrets: readonly string[], issued: RegExp) {
    this.#names = names;
    // Beside the spellings redactSecrets knows, the URL parser's: a secret written into a URL's path or query is kept by
    // `new URL` in its own percent-encoding (a space as %20 in either, a quote as %22 in the query, `!` as it is).
    this.#secrets = secrets.flatMap((secret) => [secret, ...urlSpellings(secret)]);
    this.#issued = issued;
  }

  get entries(): LoggedRequest[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries.length = 0;
  }

  add(request: Request, body: string, at: number, operationId: string | undefined): void {
    // A bracketed name (a form's `user[appSecret]`) is a secret's when its last part is.
    const secret = (name: string) => [name, /\[([^[\]]*)\]$/.exec(name)?.[1] ?? name].some((n) => this.#names.has(n) || isSensitiveKey(n));
    const url = new URL(request.url);
    for (const name of new Set(url.searchParams.keys())) {
      if (secret(name)) url.searchParams.set(name, REDACTED);
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = SECRET_HEADERS.has(name) || isSensitiveKey(name) ? REDACTED : value;
    });
    const clean = (text: string) => redactSecrets(text, this.#secrets).replace(this.#issued, REDACTED);
    const entry: LoggedRequest = {
      method: request.method,
      url: clean(url.href),
      ...(operationId === undefined ? {} : { operationId }),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, clean(v)])),
      ...(body === '' ? {} : { body: truncated(clean(redactBody(body, secret))) }),
      at,
    };
    this.#entries.push(Object.freeze(entry));
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
  }
}

/** How `new URL` writes `text` in a path and in a query. */
function urlSpellings(text: string): string[] {
  const path = URL.canParse(`http://h/${text}`) ? new URL(`http://h/${text}`).pathname.slice(1) : text;
  const query = URL.canParse(`http://h/?${text}`) ? new URL(`http://h/?${text}`).search.slice(1) : text;
  return [path, query].filter((spelling) => spelling !== text);
}

/** Cut after redaction, so no secret is half shown. */
const truncated = (text: string) =>
  text.length <= MAX_BODY ? text : `${text.slice(0, MAX_BODY)}... [${text.length - MAX_BODY} more characters not logged]`;

/**
 * A body with the values of secret-named fields cut: read as JSON, as a
 * form and as XML alike, whatever its content type says, and without parsing
 * it, so a body that does not parse (a trailing comma, nesting deeper than
 * any stack, a form sent as text/plain or with no type) is cut all the same.
 */
function redactBody(body: string, secret: (name: string) => boolean): string {
  return redactXml(redactForm(redactJson(body, secret), secret), secret);
}

const QUOTED_REDACTED = JSON.stringify(REDACTED);

/** Every `"name": value` whose name is a secret's, its value (a string, a scalar, or a whole object or array) replaced; one pass, no recursion. */
function redactJson(text: string, secret: (name: string) => boolean): string {
  let out = '';
  let kept = 0;
  for (let i = text.indexOf('"'); i >= 0 && i < text.length; i = text.indexOf('"', i)) {
    const end = stringEnd(text, i);
    let colon = end;
    while (/\s/.test(text[colon] ?? '')) colon += 1;
    if (text[colon] !== ':' || !secret(jsonString(text.slice(i, end)))) {
      i = end;
      continue;
    }
    let start = colon + 1;
    while (/\s/.test(text[start] ?? '')) start += 1;
    const stop = valueEnd(text, start);
    out += text.slice(kept, start) + QUOTED_REDACTED;
    kept = stop;
    i = stop;
  }
  return out + text.slice(kept);
}

/** Where the JSON string starting at `i` ends (after its closing quote; the text's end if it has none). */
function stringEnd(text: string, i: number): number {
  for (let at = i + 1; at < text.length; at += 1) {
    if (text[at] === '\\') at += 1;
    else if (text[at] === '"') return at + 1;
  }
  return text.length;
}

const SCALAR_END = /[,}\]\s]/g;

/** Where the JSON value starting at `i` ends: a string, an object or array with all it holds, else a scalar; the text's end if it does not. */
function valueEnd(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return stringEnd(text, i);
  if (first !== '{' && first !== '[') {
    SCALAR_END.lastIndex = i;
    return SCALAR_END.exec(text)?.index ?? text.length;
  }
  let depth = 0;
  for (let at = i; at < text.length; at += 1) {
    const c = text[at];
    if (c === '"') at = stringEnd(text, at) - 1;
    else if (c === '{' || c === '[') depth += 1;
    else if ((c === '}' || c === ']') && --depth === 0) return at + 1;
  }
  return text.length;
}

/** A JSON string literal's text (escapes read), or what is between its quotes when it does not parse. */
function jsonString(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1);
  }
}

/** Every `name=value` (a form, a query) whose name, form-decoded, is a secret's. */
function redactForm(text: string, secret: (name: string) => boolean): string {
  return text.replace(/(^|[&?;\s])([^=&?;\s]+)=([^&\r\n]*)/g, (pair, before: string, name: string) =>
    secret(formDecode(name)) ? `${before}${name}=${REDACTED}` : pair,
  );
}

function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Every `<name>value</name>` whose (local) name is a secret's. */
function redactXml(text: string, secret: (name: string) => boolean): string {
  return text.replace(/<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>([^<]*)<\/\1\s*>/g, (element, name: string, attributes = '') =>
    secret(name.slice(name.lastIndexOf(':') + 1)) ? `<${name}${attributes}>${REDACTED}</${name}>` : element,
  );
}
