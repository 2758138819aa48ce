// Group 5: Dapi pauses an operation to ask the end user something and resumes
// it when the same endpoint is called again with the operationID and the
// answers. `withUserInput` (generated into packages/dapi) runs that loop.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as dapi from '../../dapi/src/index.ts';
import { EnvelopeError, UserInputRoundsExceededError } from '../src/index.ts';
import { json, jsonOf, type RecordedRequest, rejectionOf, startServer, type TestServer } from './helpers.ts';

const ROUTE = 'POST /v2/data/accounts/get';
const TOKEN = 'dapi-user-input-token';
const secrets = { appSecret: 'app-secret-for-user-input', userSecret: 'user-secret-for-user-input' };

const otp = { id: 'otp', query: 'Enter the code we sent to your phone', answer: '', index: 0, queryType: 'text' } as const;
const choice = {
  id: 'multiple_choice',
  query: 'Which card do you hold?',
  answer: '',
  index: 0,
  queryType: 'text',
  queryOptions: ['Visa 4242', 'Mastercard 5454'],
} as const;
const accounts = [{ id: 'acc_1', name: 'Current account', iban: 'AE070331234567890123456', currency: { code: 'AED', name: 'UAE Dirham' } }];
const pending = (userInputs: readonly unknown[]) =>
  json(200, { success: true, status: 'user_input_required', operationID: 'op-42', userInputs });

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const client = () => dapi.createClient({ baseUrl: `${server.url}/v2`, auth: { accessToken: TOKEN } });
const bodies = () => server.seen(ROUTE).map((r) => jsonOf(r));

// A bank that asks for an OTP, then a multiple-choice question, and checks both answers.
function bank(request: RecordedRequest) {
  const body = jsonOf(request) ?? {};
  const [input] = (body.userInputs as { id: string; answer: string }[] | undefined) ?? [];
  if (body.operationID === undefined) return pending([otp]);
  if (body.operationID !== 'op-42')
    return json(200, { success: false, status: 'failed', type: 'INVALID_OPERATION', msg: 'unknown operation' });
  if (input?.id === 'otp')
    return input.answer === '123456'
      ? pending([choice])
      : json(200, { success: false, status: 'failed', type: 'INVALID_OTP', msg: 'The code is wrong' });
  if (input?.id === 'multiple_choice' && input.answer === '1')
    return json(200, { success: true, status: 'done', operationID: 'op-42', accounts });
  return json(200, { success: false, status: 'failed', type: 'INVALID_ANSWER', msg: 'wrong answer' });
}

type Input = dapi.UserInput;
const answering = (answers: Record<string, string>) => {
  const asked: { inputs: Input[]; round: number }[] = [];
  const answer = async (inputs: Input[], round: number) => {
    asked.push({ inputs, round });
    return inputs.map((input) => ({ ...input, answer: answers[input.id] ?? '' }));
  };
  return { asked, answer };
};

describe('Dapi user input', () => {
  it('two rounds (an OTP, then a multiple-choice question), then done', async () => {
    server.inject(ROUTE, bank, { times: 3 });
    const { asked, answer } = answering({ otp: '123456', multiple_choice: '1' });
    const { data, error } = await dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, answer);

    expect(error).toBeUndefined();
    expect(data).toMatchObject({ success: true, status: 'done', accounts });
    expect(asked).toEqual([
      { inputs: [otp], round: 1 },
      { inputs: [choice], round: 2 },
    ]);
    // The same endpoint, again and again, carrying the operation id and the answers.
    expect(bodies()).toEqual([
      secrets,
      { ...secrets, operationID: 'op-42', userInputs: [{ ...otp, answer: '123456' }] },
      { ...secrets, operationID: 'op-42', userInputs: [{ ...choice, answer: '1' }] },
    ]);
    expect(server.seen(ROUTE).every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('an operation that needs no input returns at once, without asking', async () => {
    server.inject(ROUTE, json(200, { success: true, status: 'done', operationID: 'op-1', accounts }));
    const { asked, answer } = answering({});
    const { data } = await dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, answer);
    expect(data).toMatchObject({ status: 'done' });
    expect(asked).toHaveLength(0);
    expect(server.seen(ROUTE)).toHaveLength(1);
  });

  it('a failed round ends the loop with the error, never data', async () => {
    server.inject(ROUTE, bank, { times: 3 });
    const { asked, answer } = answering({ otp: '000000' });
    const result = await dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, answer);
    expect(result.data).toBeUndefined();
    expect(result.error).toEqual({ success: false, status: 'failed', type: 'INVALID_OTP', msg: 'The code is wrong' });
    expect(asked).toHaveLength(1);
    expect(server.seen(ROUTE)).toHaveLength(2);
  });

  it('a failed round throws an EnvelopeError in the throwing style', async () => {
    server.inject(ROUTE, bank, { times: 3 });
    const throwing = dapi.createClient({ baseUrl: `${server.url}/v2`, auth: { accessToken: TOKEN }, throwOnError: true });
    const error = await rejectionOf(
      dapi.withUserInput(throwing, '/data/accounts/get', { body: secrets }, answering({ otp: '123456', multiple_choice: '0' }).answer),
    );
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error).toMatchObject({
      code: 'envelope_failure',
      providerCode: 'INVALID_ANSWER',
      status: 200,
      method: 'POST',
      path: '/data/accounts/get',
    });
    expect((error as Error).message).toContain('wrong answer');
    expect(server.seen(ROUTE)).toHaveLength(3);
  });

  it('stops after maxRounds with UserInputRoundsExceededError', async () => {
    server.inject(ROUTE, pending([otp]), { times: 10 });
    const { asked, answer } = answering({ otp: '111111' });
    const error = await rejectionOf(dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, answer, { maxRounds: 2 }));
    expect(error).toBeInstanceOf(UserInputRoundsExceededError);
    expect(error).toMatchObject({ code: 'user_input_rounds_exceeded', rounds: 2 });
    expect(asked.map((a) => a.round)).toEqual([1, 2]);
    expect(server.seen(ROUTE)).toHaveLength(3);
  });

  it('the default bound is 5 rounds', async () => {
    server.inject(ROUTE, pending([otp]), { times: 10 });
    const error = await rejectionOf(dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, answering({ otp: '1' }).answer));
    expect(error).toMatchObject({ code: 'user_input_rounds_exceeded', rounds: 5 });
    expect(server.seen(ROUTE)).toHaveLength(6);
  });

  it('an answer function that gives up stops the loop with its own error', async () => {
    server.inject(ROUTE, bank, { times: 3 });
    const cancelled = new Error('the user closed the dialog');
    const error = await rejectionOf(
      dapi.withUserInput(client(), '/data/accounts/get', { body: secrets }, () => {
        throw cancelled;
      }),
    );
    expect(error).toBe(cancelled);
    expect(server.seen(ROUTE)).toHaveLength(1);
  });
});
