// Providers that pause an operation to ask the end user something (an OTP,
// a security question) and resume it when the same endpoint is called again
// with the answers (`x-portico-user-input`).
import { PorticoError } from '@portico/auth';
import { resolvePointer } from '@portico/auth/internal';
import type { PathsWithMethod } from 'openapi-typescript-helpers';
import type { Init, OperationResult, PorticoClient } from './client.js';

export interface UserInputRules {
  /** Pointer to the operation status in a response. */
  readonly status: string;
  /** The status value that means "answers needed". */
  readonly pending: string;
  /** Pointer to the questions. */
  readonly inputs: string;
  /** Pointer to the operation id to resume. */
  readonly operationId: string;
  /** Request body fields that carry the operation id and the answers. */
  readonly request: { readonly operationId: string; readonly inputs: string };
  /** The component schema of one question, for the generated types. */
  readonly schema?: string;
}

export class UserInputRoundsExceededError extends PorticoError {
  static override readonly errorName = 'UserInputRoundsExceededError';
  readonly rounds: number;
  constructor(rounds: number) {
    super('user_input_rounds_exceeded', `The provider still asked for user input after ${rounds} rounds; stopping.`);
    this.rounds = rounds;
  }
}

export interface UserInputOptions {
  /** Rounds of questions to answer before giving up (default 5). */
  maxRounds?: number;
}

type Result = { data?: unknown; error?: unknown; response: Response };
type Body = { body: Record<string, unknown> } & Record<string, unknown>;
type Post<Paths, P> = P extends keyof Paths ? (Paths[P] extends { post: infer Op } ? Op : never) : never;

/**
 * Calls `path`; while the provider answers that it needs user input, hands
 * the questions to `answer` and sends the same request again with the
 * operation id and the answers. Resolves with the done (or failed) result.
 */
export type WithUserInput<Paths extends {}, Pages, Input> = <P extends PathsWithMethod<Paths, 'post'>, Throw extends boolean>(
  client: PorticoClient<Paths, Pages, Throw>,
  path: P,
  init: Init<Paths[P], 'post'>,
  answer: (inputs: Input[], round: number) => Input[] | Promise<Input[]>,
  options?: UserInputOptions,
) => Promise<OperationResult<Post<Paths, P>, Init<Paths[P], 'post'>, Throw>>;

/** A provider's `withUserInput`, bound to its spec's rules (`x-portico-user-input`). */
export function defineWithUserInput<Paths extends {}, Pages, Input>(rules: UserInputRules): WithUserInput<Paths, Pages, Input> {
  const withUserInput = (
    client: { POST: (path: unknown, init: Body) => Promise<Result> },
    path: unknown,
    init: Body,
    answer: (inputs: Input[], round: number) => Input[] | Promise<Input[]>,
    options?: UserInputOptions,
  ) => completeUserInput(rules, (next) => client.POST(path, next), init, answer, options);
  // One cast for the binding: the loop only adds body fields to whatever POST init it was given; the type is what callers see.
  return withUserInput as unknown as WithUserInput<Paths, Pages, Input>;
}

/**
 * Calls an operation, and while it answers "user input required", passes the
 * questions to `answer` and calls it again with the operation id and the
 * answers. Resolves with the first result that is done, or failed.
 */
async function completeUserInput<Input, R extends Result>(
  rules: UserInputRules,
  call: (init: Body) => Promise<R>,
  init: Body,
  answer: (inputs: Input[], round: number) => Input[] | Promise<Input[]>,
  options: UserInputOptions = {},
): Promise<R> {
  const maxRounds = options.maxRounds ?? 5;
  let request = init;
  for (let round = 0; ; round++) {
    const result = await call(request);
    if (result.error !== undefined || resolvePointer(result.data, rules.status) !== rules.pending) return result;
    if (round >= maxRounds) throw new UserInputRoundsExceededError(maxRounds);
    const questions = resolvePointer(result.data, rules.inputs);
    const answers = await answer((Array.isArray(questions) ? questions : []) as Input[], round + 1);
    request = {
      ...request,
      body: {
        ...request.body,
        [rules.request.operationId]: resolvePointer(result.data, rules.operationId),
        [rules.request.inputs]: answers,
      },
    };
  }
}
