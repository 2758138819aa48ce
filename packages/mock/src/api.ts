// The provider's API operations: the credential and the request checked
// against the spec, then the answer a test queued, a user-input round, a page
// of a list, or the documented success body.
import type { Pagination } from '@portico/runtime';
import type { AuthorizationServer } from './oauth.js';
import type { Provider, Route } from './provider.js';
import type { Replies, Reply } from './reply.js';
import { deleteAt, parametersOf, readBody, type Schemas, schemaAt, setAt, valueAt } from './schemas.js';
import { deref, generateValue, type Json } from './values.js';

/** An answer a test queued for an operation. */
export interface QueuedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** What the controller keeps for the API: queued answers and user-input rounds, per operationId. */
export interface ApiControl {
  takeQueued(operationId: string): QueuedReply | undefined;
  /** The next user-input round of an operation, without taking it. */
  nextRound(operationId: string): Json[] | undefined;
  takeRound(operationId: string): void;
}

interface UserInputRules {
  status: string;
  pending: string;
  inputs: string;
  operationId: string;
  request: { operationId: string; inputs: string };
  schema: string;
}

export interface ApiOptions {
  listLength: number;
  random: (prefix: string) => string;
}

export class Api {
  readonly #provider: Provider;
  readonly #schemas: Schemas;
  readonly #replies: Replies;
  readonly #oauth: AuthorizationServer;
  readonly #control: ApiControl;
  readonly #options: ApiOptions;
  /** Each list operation's items, built once. */
  readonly #lists = new Map<string, unknown[]>();
  /** The open user-input round per operation: the operationID the client must send back, and the inputs asked. */
  readonly #rounds = new Map<string, { id: string; inputs: Json[] }>();

  constructor(
    provider: Provider,
    schemas: Schemas,
    replies: Replies,
    oauth: AuthorizationServer,
    control: ApiControl,
    options: ApiOptions,
  ) {
    this.#provider = provider;
    this.#schemas = schemas;
    this.#replies = replies;
    this.#oauth = oauth;
    this.#control = control;
    this.#options = options;
  }

  reset(): void {
    this.#lists.clear();
    this.#rounds.clear();
  }

  /** The media type the representation parameter picks for this request, if the operation has one. */
  wanted(route: Route, values: Record<string, string>): string | undefined {
    const representation = route.meta.representation;
    return representation ? representation.types[values[representation.param] ?? ''] : undefined;
  }

  async handle(route: Route, request: Request, url: URL, values: Record<string, string>, text: string): Promise<Reply> {
    const want = this.wanted(route, values);
    const denied = this.#authorize(route, request, want);
    if (denied) return denied;
    const checked = this.#check(route, request, url, values, text, want);
    if ('problem' in checked) return this.#replies.error(route, 400, checked.problem, want);
    // A field the spec's own data names as the client's or the user's is checked as the grant's: the documented 400 when not.
    const token = this.#oauth.bearer(request);
    const inputProblem = token === undefined ? undefined : this.#oauth.inputProblem(token, checked.body);
    if (inputProblem) return this.#replies.error(route, 400, inputProblem, want);
    const queued = this.#control.takeQueued(route.operationId);
    if (queued) {
      const status = String(queued.status);
      const media = this.#replies.mediaFor(route, status, want);
      const body = queued.body ?? this.#replies.documented(route, status, media);
      return {
        status: queued.status,
        ...(body === undefined ? {} : { body, media }),
        headers: queued.headers ?? {},
        ...(queued.delayMs ? { delay: queued.delayMs } : {}),
      };
    }
    const status = this.#successStatus(route);
    const media = this.#replies.mediaFor(route, status, want);
    const rules = this.#provider.doc['x-portico-user-input'] as UserInputRules | undefined;
    if (rules && route.method === 'POST') {
      const round = this.#userInput(route, rules, checked.body, status, media);
      if (round) return round;
    }
    const pagination = route.meta.pagination;
    if (pagination) return this.#page(route, pagination, url, status, media, want);
    const body = this.#withPathValues(route, values, this.#replies.documented(route, status, media), status, media);
    return { status: Number(status), ...(body === undefined ? {} : { body, media }) };
  }

  /** The first 2xx the operation documents (200 before 204). */
  #successStatus(route: Route): string {
    return this.#replies.statuses(route).find((s) => /^2\d\d$/.test(s)) ?? '200';
  }

  /**
   * The operation's security requirements: met when one alternative is (an
   * empty one is public); the mock can check the OAuth scheme of the profile,
   * with the scopes the requirement names. A 401 in the documented shape, or
   * for a valid token without the scope an insufficient_scope in the status
   * the profile's `insufficientScope` gives (403 by default, RFC 6750 §3.1).
   */
  #authorize(route: Route, request: Request, want: string | undefined): Reply | undefined {
    const requirements: Json[] = route.op.security ?? this.#provider.doc.security ?? [];
    if (requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0)) return undefined;
    const scheme = this.#provider.profile.securityScheme;
    const token = this.#oauth.bearer(request);
    const valid = this.#oauth.valid(token);
    let scopeMissing = false;
    for (const requirement of requirements) {
      const names = Object.keys(requirement);
      if (scheme === undefined || names.length !== 1 || names[0] !== scheme || !valid) continue;
      const needed: string[] = requirement[scheme] ?? [];
      const granted = this.#oauth.scopeOf(token!);
      if (needed.every((s) => granted.includes(s))) return undefined;
      scopeMissing = true;
    }
    const realm = `realm="${this.#provider.slug}"`;
    if (scopeMissing) {
      // RFC 6750 §3.1: 403 insufficient_scope, unless the profile's insufficientScope gives the provider's status (FDX: 401);
      // the body in the documented shape of that status where there is one.
      const status: number = (this.#provider.doc['x-portico-auth'] as Json).insufficientScope?.status ?? 403;
      const reply = this.#replies.error(route, status, 'the access token lacks a scope this operation needs', want);
      return { ...reply, headers: { 'www-authenticate': `Bearer ${realm}, error="insufficient_scope"` } };
    }
    const reply = this.#replies.error(
      route,
      401,
      token === undefined ? 'an access token is required' : 'the access token is invalid or expired',
      want,
    );
    return {
      ...reply,
      headers: { 'www-authenticate': token === undefined ? `Bearer ${realm}` : `Bearer ${realm}, error="invalid_token"` },
    };
  }

  /** Parameters and body against the spec: the first problem found, or the body as read. */
  #check(
    route: Route,
    request: Request,
    url: URL,
    values: Record<string, string>,
    text: string,
    want: string | undefined,
  ): { problem: string } | { body: unknown } {
    for (const { param, pointer } of parametersOf(this.#provider, route)) {
      const raw = readParam(param, url, request, values);
      if (raw === undefined) {
        if (param.required) return { problem: `${param.in} parameter ${param.name} is required` };
        continue;
      }
      if (!param.schema) continue;
      const problems = this.#schemas.problems(pointer, raw, true);
      if (problems.length) return { problem: `${param.in} parameter ${param.name}: ${problems[0]}` };
    }
    const requestBody = deref<Json | undefined>(this.#provider.doc, route.op.requestBody);
    if (!requestBody) return { body: undefined };
    const bodyType = want && requestBody.content?.[want] ? want : undefined;
    const read = readBody(this.#provider, route, text, request.headers.get('content-type'), bodyType);
    if (read.problem) return { problem: read.problem };
    if (read.value === undefined) return requestBody.required ? { problem: 'a request body is required' } : { body: undefined };
    const pointer = read.media ? this.#schemas.contentPointer(route, 'request', read.media) : undefined;
    const problems = pointer ? this.#schemas.problems(pointer, read.value, read.media === 'application/x-www-form-urlencoded') : [];
    return problems.length ? { problem: `the body: ${problems.join('; ')}` } : { body: read.value };
  }

  /**
   * A user-input round (x-portico-user-input): a call that the test asked to
   * pause answers "input needed" with the questions and an operation id; the
   * call sent again with that id and every question answered resumes it.
   */
  #userInput(route: Route, rules: UserInputRules, body: unknown, status: string, media: string | undefined): Reply | undefined {
    const sent = body !== null && typeof body === 'object' ? (body as Json) : {};
    const open = this.#rounds.get(route.operationId);
    const resumed = sent[rules.request.operationId];
    // An operation id with no round open is an ordinary field (getOperationStatus takes one): answered as usual.
    if (resumed !== undefined && open) {
      if (open.id !== resumed)
        return this.#replies.error(route, 400, `${rules.request.operationId} ${String(resumed)} is not an operation waiting for input`);
      const answers: Json[] = Array.isArray(sent[rules.request.inputs]) ? sent[rules.request.inputs] : [];
      const unanswered = open.inputs.filter((q) => !answers.some((a) => a?.id === q.id && typeof a.answer === 'string' && a.answer !== ''));
      if (unanswered.length) return this.#replies.error(route, 400, `unanswered input: ${unanswered.map((q) => q.id).join(', ')}`);
      this.#rounds.delete(route.operationId);
      this.#control.takeRound(route.operationId);
      if (this.#control.nextRound(route.operationId) === undefined) return undefined;
      return this.#ask(route, rules, status, media, open.id);
    }
    // A new call resets any open round, as the provider's session does.
    this.#rounds.delete(route.operationId);
    return this.#control.nextRound(route.operationId) === undefined ? undefined : this.#ask(route, rules, status, media);
  }

  #ask(route: Route, rules: UserInputRules, status: string, media: string | undefined, id = this.#options.random('op')): Reply {
    const inputs = this.#control.nextRound(route.operationId)!.map((input, index) => ({ index, ...input, answer: '' }));
    this.#rounds.set(route.operationId, { id, inputs });
    // The spec's own "input needed" example where it has one, else the success body turned into one.
    const mediaObject = this.#provider.responseOf(route, status)?.content?.[media ?? ''];
    const examples = Object.values<Json>(mediaObject?.examples ?? {}).map((e) => deref<Json>(this.#provider.doc, e)?.value);
    const pendingExample = examples.find((e) => valueAt(e, rules.status) === rules.pending);
    const body = structuredClone(pendingExample ?? this.#replies.documented(route, status, media) ?? {}) as Json;
    setAt(body, rules.status, rules.pending);
    setAt(body, rules.inputs, inputs);
    setAt(body, rules.operationId, id);
    return { status: Number(status), body, media };
  }

  /**
   * A page of a list operation, by its x-portico-pagination: the list is the
   * documented items followed by items built from the item schema, `listLength`
   * in all; pages are as long as the caller's limit, else the style's default,
   * else the documented page; the last page carries no next cursor or link.
   */
  #page(route: Route, rules: Pagination, url: URL, status: string, media: string | undefined, want: string | undefined): Reply {
    const template = this.#replies.documented(route, status, media) as Json;
    const documented = valueAt(template, rules.items);
    const items = this.#listOf(route, rules, Array.isArray(documented) ? documented : [], status, media);
    const q = url.searchParams;
    const limitText = rules.limitParam ? q.get(rules.limitParam) : null;
    const size = Math.max(
      1,
      Number(limitText ?? rules.defaultLimit ?? (Array.isArray(documented) && documented.length ? documented.length : 1)),
    );
    const cursorName =
      rules.style === 'cursor' ? rules.cursorParam : rules.style === 'offset' ? rules.offsetParam : this.#nextUrlParam(route, rules);
    const startText = cursorName ? q.get(cursorName) : null;
    const start = startText === null ? 0 : Number(startText);
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(size))
      return this.#replies.error(route, 400, `${cursorName} is not a position in this list`, want);
    const body = structuredClone(template) ?? {};
    setAt(body, rules.items, items.slice(start, start + size));
    const more = start + size < items.length;
    const next = String(start + size);
    if (rules.style === 'cursor' && rules.nextCursor) {
      if (more) setAt(body, rules.nextCursor, next);
      else deleteAt(body, rules.nextCursor);
    }
    if (rules.style === 'offset' && rules.total) setAt(body, rules.total, items.length);
    if (rules.style === 'next-url' && rules.nextUrl && cursorName) {
      const link = new URL(url.href);
      link.searchParams.set(cursorName, next);
      setAt(body, rules.nextUrl, more ? link.href : null);
      if (!more && this.#replies.problems(route, status, media, body).length) deleteAt(body, rules.nextUrl);
    }
    return { status: Number(status), body, media };
  }

  /** The query parameter a next-url list pages by: the one in the spec's own next link, else `cursor`. */
  #nextUrlParam(route: Route, rules: Pagination): string {
    const links = this.#provider.routes
      .filter((r) => r === route || r.meta.pagination?.nextUrl === rules.nextUrl)
      .map((r) =>
        valueAt(this.#replies.documented(r, this.#successStatus(r), this.#replies.mediaFor(r, this.#successStatus(r))), rules.nextUrl!),
      );
    for (const link of links) {
      if (typeof link !== 'string') continue;
      const name = [...new URL(link, 'https://placeholder.invalid').searchParams.keys()][0];
      if (name) return name;
    }
    return 'cursor';
  }

  #listOf(route: Route, rules: Pagination, documented: unknown[], status: string, media: string | undefined): unknown[] {
    const cached = this.#lists.get(route.operationId);
    if (cached) return cached;
    const schema = deref<Json>(this.#provider.doc, this.#provider.responseOf(route, status)?.content?.[media ?? '']?.schema);
    const itemSchema = schemaAt(this.#provider.doc, schema, rules.items)?.items;
    const items: unknown[] = documented.slice(0, this.#options.listLength).map((item) => structuredClone(item));
    for (let n = items.length; n < this.#options.listLength; n++) items.push(generateValue(this.#provider.doc, itemSchema, 'item', n + 1));
    this.#lists.set(route.operationId, items);
    return items;
  }

  /**
   * The documented body answering for the resource the caller named: where the
   * example holds a path parameter's own example value, the requested value
   * instead (when the body stays valid).
   */
  #withPathValues(route: Route, values: Record<string, string>, body: unknown, status: string, media: string | undefined): unknown {
    if (body === null || typeof body !== 'object') return body;
    const swaps = parametersOf(this.#provider, route)
      .filter(({ param }) => param.in === 'path' && param.example !== undefined && values[param.name] !== undefined)
      .map(({ param }) => [String(param.example), values[param.name]!] as const)
      .filter(([from, to]) => from !== to && !route.meta.representation?.types[from]);
    if (!swaps.length) return body;
    const swapped = replaceStrings(body, new Map(swaps));
    return this.#replies.problems(route, status, media, swapped).length ? body : swapped;
  }
}

function replaceStrings(value: unknown, swaps: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return swaps.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, swaps));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, swaps)]));
}

/** A parameter's value as the spec serializes it (form style: a list exploded or comma-separated); undefined when absent. */
function readParam(param: Json, url: URL, request: Request, values: Record<string, string>): unknown {
  const list = param.schema?.type === 'array';
  switch (param.in) {
    case 'path':
      return values[param.name];
    case 'query': {
      const all = url.searchParams.getAll(param.name);
      if (!all.length) return undefined;
      if (!list) return all[0];
      return param.explode === false ? all.flatMap((v) => v.split(',')) : all;
    }
    case 'header':
      return request.headers.get(param.name) ?? undefined;
    default:
      return undefined;
  }
}
