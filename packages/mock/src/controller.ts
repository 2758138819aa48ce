// What a test drives the mock with: queued answers, faults, expiry and
// revocation, consent, Dapi's Connect and user-input rounds, signed webhooks,
// and the redacted request log.
import type { ApiControl, QueuedReply } from './api.js';
import { MockError } from './errors.js';
import type { LoggedRequest } from './log.js';
import type { Stats } from './oauth.js';
import type { SignedWebhook } from './webhooks.js';

/** A fault injected into the answers of an operation (or of the token endpoint, or of every request). */
export type Fault =
  /** 429 with `Retry-After`, in the provider's documented shape. */
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  /** A 5xx (500 unless given), in the provider's documented shape. */
  | { kind: 'server-error'; status?: number }
  /** The usual answer, after a delay. */
  | { kind: 'slow'; delayMs: number }
  /** No answer until `reset()`, `close()` or the request's signal aborts. */
  | { kind: 'hang' }
  /** A 2xx whose body does not parse. */
  | { kind: 'malformed' }
  /** A 2xx whose body is `bytes` long. */
  | { kind: 'oversized'; bytes: number };

export interface RespondWith {
  /** Default: the operation's first documented 2xx. */
  status?: number;
  /** Default: the documented body of that status. Checked against the spec's schema. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface Times {
  /** How many requests it applies to (default 1). */
  times?: number;
}

/** One question of a user-input round (Dapi's `UserInput`): `answer` is sent empty. */
export type UserInputQuestion = Record<string, unknown> & { id: string };

/** The mock's internals the controller drives; not public. */
export interface ControllerHost {
  checkQueued(operationId: string, reply: RespondWith): QueuedReply;
  checkTarget(target: string): void;
  checkUserInput(operationId: string, inputs: readonly UserInputQuestion[]): void;
  approve(url: string, deny: boolean): string;
  connect(): Record<string, string>;
  expireAccessTokens(): void;
  revokeGrants(): void;
  sign(payload: unknown, timestamp: Date | undefined): Promise<SignedWebhook>;
  requests(): LoggedRequest[];
  stats(): Stats;
  reset(): void;
}

interface Pending<T> {
  value: T;
  left: number;
}

/** The faults and queued answers, taken by the mock request by request. */
export class ControlState implements ApiControl {
  readonly queued = new Map<string, Pending<QueuedReply>[]>();
  readonly faults = new Map<string, Pending<Fault>[]>();
  readonly rounds = new Map<string, UserInputQuestion[][]>();

  clear(): void {
    this.queued.clear();
    this.faults.clear();
    this.rounds.clear();
  }

  takeQueued(operationId: string): QueuedReply | undefined {
    return take(this.queued, operationId);
  }

  /** The fault for a request to this operation: its own first, then the token endpoint's (when it is that), then every request's. */
  takeFault(targets: readonly string[]): Fault | undefined {
    for (const target of targets) {
      const fault = take(this.faults, target);
      if (fault) return fault;
    }
    return undefined;
  }

  nextRound(operationId: string): UserInputQuestion[] | undefined {
    return this.rounds.get(operationId)?.[0];
  }

  takeRound(operationId: string): void {
    this.rounds.get(operationId)?.shift();
  }
}

function take<T>(map: Map<string, Pending<T>[]>, key: string): T | undefined {
  const queue = map.get(key);
  const first = queue?.[0];
  if (!queue || !first) return undefined;
  if (--first.left <= 0) queue.shift();
  return first.value;
}

function push<T>(map: Map<string, Pending<T>[]>, key: string, value: T, times: number | undefined): void {
  const left = times ?? 1;
  if (!Number.isInteger(left) || left < 1) throw new MockError('invalid_option', 'times must be a whole number of at least 1');
  const queue = map.get(key) ?? [];
  queue.push({ value, left });
  map.set(key, queue);
}

/**
 * Drives one mock. `Operation` is the provider's operationIds, `Connect`
 * what its Connect layer hands over, `Webhook` its webhooks' names.
 */
export class MockController<Operation extends string = string, Connect = Record<string, string>, Webhook extends string = string> {
  readonly #host: ControllerHost;
  readonly #state: ControlState;

  constructor(host: ControllerHost, state: ControlState) {
    this.#host = host;
    this.#state = state;
  }

  /** The next answers of an operation (body checked against its schema). */
  respond(operationId: Operation, reply: RespondWith = {}, options: Times = {}): void {
    const queued = this.#host.checkQueued(operationId, objectArgument(reply, 'the reply'));
    push(this.#state.queued, operationId, queued, objectArgument(options, 'options').times);
  }

  /** A fault for the next requests of an operation, of the token endpoint (`'token'`), or of every request (`'*'`). */
  fail(target: Operation | 'token' | '*', fault: Fault, options: Times = {}): void {
    this.#host.checkTarget(target);
    checkFault(fault);
    push(this.#state.faults, target, { ...fault }, objectArgument(options, 'options').times);
  }

  /**
   * Every access token issued so far is expired now, also one whose lifetime
   * the provider never states (Finexer's); a permanent one (the profile's
   * `expiry.never`: Dapi's) stays valid.
   */
  expireAccessTokens(): void {
    this.#host.expireAccessTokens();
  }

  /** Every grant ends: a refresh is answered invalid_grant, an API call with its tokens 401. */
  revokeGrants(): void {
    this.#host.revokeGrants();
  }

  /**
   * Where the provider's consent page would send the browser for this
   * authorization URL: the redirect URI with a code and the state, or with
   * the provider's error (`deny: true`: the user pressed deny). A URL the
   * provider would not redirect for (unknown client or redirect URI) throws
   * MockError `authorization_refused`.
   */
  approve(authorizationUrl: string, options: { deny?: boolean } = {}): string {
    return this.#host.approve(authorizationUrl, objectArgument(options, 'options').deny === true);
  }

  /** What the provider's Connect layer hands the app when a user links (Dapi: accessCode, connectionID, userSecret). */
  connect(): Connect {
    return this.#host.connect() as Connect;
  }

  /** The next call of the operation (a round per call of this) pauses for these questions; answered, it resumes. */
  requireUserInput(operationId: Operation, inputs: readonly UserInputQuestion[]): void {
    this.#host.checkUserInput(operationId, inputs);
    const rounds = this.#state.rounds.get(operationId) ?? [];
    rounds.push(inputs.map((input) => ({ ...input })));
    this.#state.rounds.set(operationId, rounds);
  }

  /** A webhook delivery signed as the provider signs it: an event name (its documented example) or the event itself. */
  async signWebhook(payload: Webhook | object, options: { timestamp?: Date } = {}): Promise<SignedWebhook> {
    return this.#host.sign(payload, objectArgument(options, 'options').timestamp);
  }

  /** POSTs a signed delivery to `url` (your webhook endpoint) and returns its response. */
  async deliverWebhook(url: string, payload: Webhook | object, options: { timestamp?: Date } = {}): Promise<Response> {
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
      throw new MockError('invalid_option', 'deliverWebhook takes the http(s) URL of your endpoint');
    const signed = await this.signWebhook(payload, options);
    return fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
  }

  /** The requests received (the last 1000), oldest first, credentials redacted. */
  get requests(): LoggedRequest[] {
    return this.#host.requests();
  }

  get stats(): Readonly<Stats> {
    return { ...this.#host.stats() };
  }

  /** Forgets tokens, grants, codes, queued answers, faults, rounds and the log; releases hung requests. */
  reset(): void {
    this.#host.reset();
  }

  /** Nothing of the mock's state, and no secret: only what it counts. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MockController ${JSON.stringify({ requests: this.#host.requests().length, ...this.#host.stats() })}`;
  }

  toJSON(): object {
    return { requests: this.#host.requests().length, ...this.#host.stats() };
  }
}

/** An options argument: an object, or left out. */
function objectArgument<T extends object>(value: T, what: string): T {
  if (value === null || typeof value !== 'object') throw new MockError('invalid_option', `${what} must be an object`);
  return value;
}

/** The longest wait a timer can hold (setTimeout's 32-bit limit): a longer one would fire at once. */
export const MAX_DELAY_MS = 2 ** 31 - 1;

function checkFault(fault: Fault): void {
  const bad = (what: string) => new MockError('invalid_option', `fault ${fault?.kind}: ${what}`);
  const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  switch (fault?.kind) {
    case 'rate-limit':
      if (!positive(fault.retryAfterSeconds)) throw bad('retryAfterSeconds must be a number of seconds, 0 or more');
      return;
    case 'server-error':
      if (fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 500 && fault.status <= 599))
        throw bad('status must be a 5xx');
      return;
    case 'slow':
      if (!positive(fault.delayMs) || fault.delayMs > MAX_DELAY_MS) throw bad(`delayMs must be from 0 to ${MAX_DELAY_MS} milliseconds`);
      return;
    case 'oversized':
      if (!Number.isInteger(fault.bytes) || fault.bytes < 1 || fault.bytes > 512 * 1024 * 1024)
        throw bad('bytes must be a whole number from 1 to 512 MiB');
      return;
    case 'hang':
    case 'malformed':
      return;
    default:
      throw new MockError('invalid_option', 'a fault is one of rate-limit, server-error, slow, hang, malformed, oversized');
  }
}
