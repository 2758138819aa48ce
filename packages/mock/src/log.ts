// The log of requests a mock received, for a test to read: every credential
// cut out. Three layers: headers that carry credentials, parameters and body
// fields whose name is a credential's (by the usual names, and by the
// profile's own: Dapi's `appSecret`, an authorization `code`), and then every
// secret value the mock knows (issued tokens, codes, the client's secrets)
// wherever else it appears.
import type { AuthProfile } from '@portico/auth';
import { isSensitiveKey, redact, redactSecrets } from '@portico/auth/internal';
import { templatesOf } from './facts.js';

/** One request as the mock received it, with its credentials redacted. */
export interface LoggedRequest {
  readonly method: string;
  /** The URL as requested, secret query parameters redacted. */
  readonly url: string;
  /** The spec's operationId it reached, if any. */
  readonly operationId?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text, secret fields redacted; undefined when empty. */
  readonly body?: string;
  /** When it arrived, on the mock's clock. */
  readonly at: number;
}

const REDACTED = '[redacted]';
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
  readonly #secrets: () => readonly string[];

  constructor(names: Set<string>, secrets: () => readonly string[]) {
    this.#names = names;
    this.#secrets = secrets;
  }

  get entries(): LoggedRequest[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries.length = 0;
  }

  add(request: Request, body: string, at: number, operationId: string | undefined): void {
    const secret = (name: string) => this.#names.has(name) || isSensitiveKey(name);
    const url = new URL(request.url);
    for (const name of new Set(url.searchParams.keys())) {
      if (secret(name)) url.searchParams.set(name, REDACTED);
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = SECRET_HEADERS.has(name) || isSensitiveKey(name) ? REDACTED : value;
    });
    const known = this.#secrets();
    const clean = (text: string) => redactSecrets(text, known);
    const entry: LoggedRequest = {
      method: request.method,
      url: clean(url.href),
      ...(operationId === undefined ? {} : { operationId }),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, clean(v)])),
      ...(body === '' ? {} : { body: clean(redactBody(body, request.headers.get('content-type'), secret)) }),
      at,
    };
    this.#entries.push(Object.freeze(entry));
  }
}

/** A body with the values of secret fields replaced, as JSON or a form; other text as it is (the known secrets are cut after). */
function redactBody(body: string, contentType: string | null, secret: (name: string) => boolean): string {
  const media = contentType?.split(';')[0]?.trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(body);
    for (const name of new Set(form.keys())) if (secret(name)) form.set(name, REDACTED);
    return form.toString();
  }
  try {
    const value: unknown = JSON.parse(body);
    return JSON.stringify(redactNames(redact(value), secret));
  } catch {
    return body;
  }
}

function redactNames(value: unknown, secret: (name: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => redactNames(item, secret));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, secret(key) && item !== null ? REDACTED : redactNames(item, secret)]),
  );
}
