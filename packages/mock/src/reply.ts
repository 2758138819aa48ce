// Building the mock's answers: bodies from the spec's examples (else built
// from the schema), in the media type the request chose, and error bodies in
// the provider's documented shape.
import { xml } from '@portico/runtime/xml';
import type { Provider, Route } from './provider.js';
import { isJsonType, isXmlType, type Schemas, setAt } from './schemas.js';
import { deref, generateValue, type Json } from './values.js';

/** An answer before it becomes a Response. */
export interface Reply {
  status: number;
  /** A value, written in `media`; a string as it is. */
  body?: unknown;
  media?: string;
  headers?: Record<string, string>;
  /** Sent after this many ms (a queued answer's delay). */
  delay?: number;
}

/** The first example a media object gives: `example`, else the first of `examples`. */
function exampleOf(doc: Json, media: Json | undefined): unknown {
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = Object.values<Json>(media.examples ?? {})[0];
  return first === undefined ? undefined : deref<Json>(doc, first)?.value;
}

/** Every example a media object gives, in order. */
export function examplesOf(doc: Json, media: Json | undefined): unknown[] {
  if (!media) return [];
  if (media.example !== undefined) return [media.example];
  return Object.values<Json>(media.examples ?? {}).map((e) => deref<Json>(doc, e)?.value);
}

export class Replies {
  readonly #provider: Provider;
  readonly #schemas: Schemas;

  constructor(provider: Provider, schemas: Schemas) {
    this.#provider = provider;
    this.#schemas = schemas;
  }

  /** The statuses a route documents. */
  statuses(route: Route): string[] {
    return Object.keys(route.op.responses ?? {});
  }

  /** The media type to answer in: the representation's pick when the response has it, else JSON, else the first the response lists. */
  mediaFor(route: Route, status: string, want?: string): string | undefined {
    const content: Json = this.#provider.responseOf(route, status)?.content ?? {};
    const types = Object.keys(content);
    if (want !== undefined && types.includes(want)) return want;
    return types.find(isJsonType) ?? types[0];
  }

  /**
   * The documented body of `status` in `media`: its example when it fits the
   * schema, else one built from the schema (the n-th of its kind).
   */
  documented(route: Route, status: string, media: string | undefined, n = 0): unknown {
    if (media === undefined) return undefined;
    const mediaObject = this.#provider.responseOf(route, status)?.content?.[media];
    const pointer = this.#schemas.contentPointer(route, { status }, media);
    const fits = (value: unknown) => pointer === undefined || this.#schemas.problems(pointer, value).length === 0;
    const example = exampleOf(this.#provider.doc, mediaObject);
    if (example !== undefined && n === 0 && fits(example)) return structuredClone(example);
    if (!mediaObject?.schema) return example === undefined ? undefined : structuredClone(example);
    return generateValue(this.#provider.doc, mediaObject.schema, 'value', n);
  }

  /** The problems of `body` as a response of `status` in `media` (none when the spec gives no schema). */
  problems(route: Route, status: string, media: string | undefined, body: unknown): string[] {
    const pointer = media === undefined ? undefined : this.#schemas.contentPointer(route, { status }, media);
    return pointer === undefined ? [] : this.#schemas.problems(pointer, body);
  }

  /**
   * An error answer of `status` in the provider's shape: the route's own
   * documented response, else the first operation's that documents the
   * status, else a body made of the envelope's fields (or `{ message }`).
   * The envelope's message field, where the spec has one, says what was wrong.
   */
  error(route: Route | undefined, status: number, message: string, want?: string): Reply {
    const key = String(status);
    const owner = route && this.statuses(route).includes(key) ? route : this.#provider.routes.find((r) => this.statuses(r).includes(key));
    const envelope = this.#provider.doc['x-portico-envelope'] as Json | undefined;
    if (owner) {
      const media = this.mediaFor(owner, key, want);
      const body = this.documented(owner, key, media);
      if (envelope?.message && body !== null && typeof body === 'object') setAt(body, envelope.message, message);
      if (body !== undefined || media === undefined) return { status, body, media };
    }
    if (envelope) {
      const body: Json = {};
      for (const { pointer, equals } of envelope.failure ?? []) setAt(body, pointer, equals);
      if (envelope.message) setAt(body, envelope.message, message);
      return { status, body, media: 'application/json' };
    }
    return { status, body: { message }, media: 'application/json' };
  }

  /** A Response for a reply: XML written by the shape the client decodes it with, JSON, or text. */
  toResponse(route: Route | undefined, reply: Reply): Response {
    const headers = new Headers(reply.headers);
    let payload: string | undefined;
    if (reply.body !== undefined) {
      const media = reply.media ?? 'application/json';
      if (!headers.has('content-type')) headers.set('content-type', media);
      const shape = route && isXmlType(media) ? this.#provider.xmlShape(route, String(reply.status)) : undefined;
      payload =
        typeof reply.body === 'string' && !isJsonType(media)
          ? reply.body
          : shape
            ? xml.encode(reply.body, shape)
            : JSON.stringify(reply.body);
    }
    // A null body for the statuses that may not have one (fetch refuses a body with 204 or 304).
    const empty = reply.status === 204 || reply.status === 304 || reply.status < 200;
    return new Response(empty ? null : (payload ?? null), { status: reply.status, headers });
  }
}
