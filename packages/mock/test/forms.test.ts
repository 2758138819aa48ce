// Form bodies as a client writes them, field names included: a name such as
// `__proto__[isAdmin]` or `constructor[prototype][x]` is a field like any
// other, never a write to Object.prototype in the process running the mock.
// fast-check builds the names from the keys that reach a prototype.
import * as finexer from '@portico/finexer';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createMock, type Mock } from '../src/index.js';
import { internals } from '../src/mock.js';
import { deref, type Json } from '../src/values.js';

const FORM = 'application/x-www-form-urlencoded';
const through = (mock: Mock) => ((input: RequestInfo | URL, init?: RequestInit) => mock.handle(new Request(input, init))) as typeof fetch;

const reaching = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isAdmin', 'role');
const name = fc.oneof(
  reaching,
  reaching.map((a) => `${a}[]`),
  fc.tuple(reaching, reaching).map(([a, b]) => `${a}[${b}]`),
  fc.tuple(reaching, reaching).map(([a, b]) => `${a}[${b}][]`),
  fc.tuple(reaching, reaching, reaching).map(([a, b, c]) => `${a}[${b}][${c}]`),
  fc.string({ maxLength: 12 }),
);
const fields = fc.array(fc.tuple(name, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 8 });

/** What Object.prototype and Array.prototype hold: a polluting write adds a key or changes a value. */
const snapshot = () =>
  [Object.prototype, Array.prototype].map((proto) =>
    Object.getOwnPropertyNames(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)?.value]),
  );
const before = snapshot();

afterEach(() => {
  // A failing run must not spoil the next: whatever a request added goes.
  for (const [index, proto] of [Object.prototype, Array.prototype].entries()) {
    const known = new Set(before[index]!.map(([key]) => key));
    for (const key of Object.getOwnPropertyNames(proto)) if (!known.has(key)) delete (proto as Record<string, unknown>)[key];
  }
});

/** Each form endpoint of a provider: the path to post to, the fields and headers that get a request as far as reading its form. */
interface FormTarget {
  what: string;
  path: string;
  method: string;
  base: Record<string, string>;
  headers: Record<string, string>;
}

async function formTargets(mock: Mock): Promise<FormTarget[]> {
  const { provider } = internals.get(mock)!;
  const { clientId, clientSecret } = mock.client as Record<string, string>;
  const basic = { authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}` };
  let bearer: Record<string, string> = {};
  if (mock.slug === 'expertfile') {
    const answer = await mock.handle(
      new Request('http://127.0.0.1/v2/oauth/token', {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId!, client_secret: clientSecret! }),
      }),
    );
    bearer = { authorization: `Bearer ${((await answer.json()) as { data: { accessToken: string } }).data.accessToken}` };
  }
  if (mock.slug === 'finexer') {
    const flow = finexer.oauth({ ...(mock.client as never), ...(mock.authOptions as object), fetch: through(mock) });
    const request = await flow.authorizationUrl({ scope: ['customer_read', 'customer_write'] });
    const tokens = await flow.exchangeCode(mock.controller.approve(request.url), { state: request.state });
    bearer = { authorization: `Bearer ${tokens.accessToken}` };
  }
  const profile = provider.profile;
  const auth = (method: string | undefined) =>
    method === 'client_secret_basic'
      ? { base: { client_id: clientId! }, headers: basic }
      : method === 'client_secret_post'
        ? { base: { client_id: clientId!, client_secret: clientSecret! }, headers: {} }
        : { base: {}, headers: {} };
  const targets: FormTarget[] = [];
  for (const route of provider.routes) {
    if (!deref<Json>(provider.doc, route.op.requestBody)?.content?.[FORM]) continue;
    const path = route.path.replace(/\{([^}]+)\}/g, (_, param: string) => {
      const declared = [...(route.pathItem.parameters ?? []), ...(route.op.parameters ?? [])]
        .map((p: Json) => deref<Json>(provider.doc, p))
        .find((p: Json) => p.name === param);
      return encodeURIComponent(String(declared?.example ?? deref<Json>(provider.doc, declared?.schema)?.enum?.[0] ?? '1'));
    });
    const target = { what: `${mock.slug} ${route.operationId}`, path, method: route.method };
    if (route === provider.endpoint('token')) {
      const { base, headers } = auth(profile.token.clientAuthentication);
      targets.push({ ...target, base: { ...base, grant_type: 'client_credentials', scope: 'read' }, headers });
      if (profile.grants.includes('refresh_token'))
        targets.push({ ...target, base: { ...base, grant_type: 'refresh_token', refresh_token: 'mock_rt_unknown' }, headers });
    } else if (route === provider.endpoint('revocation')) {
      const { base, headers } = auth(profile.revocation?.clientAuthentication);
      targets.push({ ...target, base: { ...base, token: 'mock_rt_unknown' }, headers });
    } else targets.push({ ...target, base: {}, headers: bearer });
  }
  return targets;
}

describe('a form field named after a prototype', () => {
  it.each(['dexero-fd', 'expertfile', 'fdx', 'finexer'] as const)(
    '%s: every form endpoint answers, and Object.prototype stays as it was',
    async (slug) => {
      const mock = createMock(slug);
      const targets = await formTargets(mock);
      expect(targets.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...targets), fields, async (target, extra) => {
          const body = new URLSearchParams(target.base);
          for (const [key, value] of extra) body.append(key, value);
          const response = await mock.handle(
            new Request(`http://127.0.0.1${target.path}`, {
              method: target.method,
              headers: { 'content-type': FORM, ...target.headers },
              body,
            }),
          );
          expect(response.status, target.what).toBeLessThan(500);
          expect(snapshot(), target.what).toEqual(before);
        }),
        { numRuns: 150, seed: 8 },
      );
    },
  );
});
