// Every operation of every spec, called once against Prism validating the
// request against the same spec: API operations through the generated client,
// and the OAuth operations (authorize, token, revoke) through the auth
// package's own requests, whose token the client then sends. A request is
// exercised only when Prism finds no violation and answers 2xx: a redirect is
// not a success.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tokens } from '../../packages/auth/src/index.ts';
import { credentials } from '../../tools/lib/auth.ts';
import { fieldsOf } from '../../tools/lib/credential-rules.js';
import { deref, isImported, type Json, listProviders, loadSpec, type Operation, operations, specPath } from '../../tools/lib/specs.ts';
import { type Prism, startPrism } from './prism.ts';

const CLIENT = { clientId: 'wire-client', clientSecret: 'wire-secret' };
const REDIRECT_URI = 'https://app.example/callback';
// A credential the user already holds (no token request to make): any value of the right kind.

const firstExample = (media: Json | undefined): unknown => {
  if (!media) return undefined;
  if ('example' in media) return media.example;
  const first = Object.values<Json>(media.examples ?? {})[0];
  return first?.value;
};

const requestExample = (doc: Json, op: Json): Json => {
  const content = deref(doc, op.requestBody)?.content ?? {};
  return (firstExample(Object.values<Json>(content)[0]) ?? {}) as Json;
};

/** openapi-fetch call arguments built from the spec's own examples. */
function callFor(doc: Json, pathItem: Json, op: Json) {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((x) => deref(doc, x))) {
    const value = p.example ?? p.schema?.example ?? p.schema?.default ?? firstExample(p);
    if (value === undefined) throw new Error(`${op.operationId}: parameter ${p.in}.${p.name} has no example`);
    (params[p.in] ??= {})[p.name] = value;
  }
  const headers: Record<string, string> = {};
  const content = deref(doc, op.requestBody)?.content ?? {};
  const mediaType = Object.keys(content).find((t) => t.includes('json')) ?? Object.keys(content)[0];
  const init: Json = { params, headers, redirect: 'manual' };
  if (mediaType) {
    init.body = firstExample(content[mediaType]);
    if (init.body === undefined) throw new Error(`${op.operationId}: request body has no example`);
    headers['Content-Type'] = mediaType;
  }
  return init;
}

interface Exchange {
  method: string;
  path: string;
  status: number;
  violations: string | null;
}

/** Prism's verdict on a request: no violation, and a 2xx. */
function expectAccepted(exchange: Pick<Exchange, 'status' | 'violations'> | undefined, what: string): void {
  expect(exchange, `${what} was not sent`).toBeDefined();
  expect(exchange!.violations, `Prism rejected ${what}: ${exchange!.violations}`).toBeNull();
  expect(exchange!.status, what).toBeGreaterThanOrEqual(200);
  expect(exchange!.status, what).toBeLessThan(300);
}

let exercised = 0;
let total = 0;

// An imported spec (x-portico-imported) has no examples to call with and its OAuth
// endpoints are not operations of the document: it joins once promoted to the house rules.
for (const slug of listProviders().filter((slug) => !isImported(loadSpec(slug)))) {
  describe(`wire: ${slug}`, () => {
    const doc = loadSpec(slug);
    const auth: Json = doc['x-portico-auth'];
    const ops = operations(doc);
    total += ops.length;
    // The operations the auth package calls itself; the rest go through the client.
    const authOps = new Map<string, Operation>();
    for (const part of ['authorization', 'token', 'revocation']) {
      const op = ops.find((o) => auth[part] && o.op.operationId === auth[part].operationId);
      if (op) authOps.set(part, op);
    }
    const apiOps = ops.filter((o) => ![...authOps.values()].includes(o));

    let prism: Prism;
    let client: any;
    let revoke: (() => Promise<void>) | undefined;
    const exchanges: Exchange[] = [];
    // Every request goes to Prism; its status and violations are kept for the auth operations' tests.
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const response = await fetch(request);
      exchanges.push({
        method: request.method,
        path: new URL(request.url).pathname,
        status: response.status,
        violations: response.headers.get('sl-violations'),
      });
      return response;
    };
    const urlOf = (part: string) => `${prism.baseUrl}${authOps.get(part)!.path}`;
    const sentTo = (part: string) =>
      exchanges.find((e) => e.method === authOps.get(part)!.method.toUpperCase() && e.path === authOps.get(part)!.path);

    beforeAll(async () => {
      prism = await startPrism(specPath(slug));
      const pkg = await import(`../../packages/${slug}/src/index.ts`);
      const options = { baseUrl: prism.baseUrl, fetch: recording };
      const grants: string[] = auth.grants ?? [];
      if (grants.includes('authorization_code')) {
        const flow = pkg.oauth({
          ...CLIENT,
          ...options,
          redirectUri: REDIRECT_URI,
          authorizationUrl: urlOf('authorization'),
          tokenUrl: urlOf('token'),
          revocationUrl: urlOf('revocation'),
        });
        const request = await flow.authorizationUrl();
        await recording(request.url, { redirect: 'manual' });
        const code = requestExample(doc, authOps.get('token')!.op).code ?? 'wire-code';
        const tokens: Tokens = await flow.exchangeCode(
          { code, state: request.state },
          { state: request.state, codeVerifier: request.codeVerifier },
        );
        client = pkg.createClient({ ...options, auth: flow.session(tokens) });
        revoke = () => flow.revoke(tokens);
      } else if (grants.includes('client_credentials')) {
        // The token is fetched by the client on its first call that needs one.
        client = pkg.createClient({ ...options, auth: { ...CLIENT, tokenUrl: urlOf('token') } });
      } else if (grants.includes('access_code_exchange')) {
        const example = requestExample(doc, authOps.get('token')!.op);
        const tokens: Tokens = await pkg.exchangeToken(example, options);
        client = pkg.createClient({ ...options, auth: { accessToken: tokens.accessToken } });
        if (authOps.has('revocation')) {
          // The package's own function for the revocation its profile declares.
          const inputs = requestExample(doc, authOps.get('revocation')!.op);
          revoke = () => pkg.revokeGrant(tokens, inputs, options);
        }
      } else {
        // A credential the user holds: the first alternative, each of its fields a made-up value.
        const [alternative] = credentials(doc);
        if (!alternative) throw new Error(`${slug}: grants ${grants.join(', ')}: teach the wire test to obtain their token`);
        const fields = Object.values(alternative).flatMap(fieldsOf);
        client = pkg.createClient({ ...options, auth: Object.fromEntries(fields.map((field) => [field, `wire-${field}-0123456789`])) });
      }
    });
    afterAll(() => prism?.stop());

    it.each(apiOps.map((o) => [`${o.method.toUpperCase()} ${o.path} (${o.op.operationId})`, o] as const))(
      '%s',
      async (_name, { method, path, pathItem, op }) => {
        const init = callFor(doc, pathItem, op);
        const { response, error } = await client.request(method, path, init);
        expectAccepted(
          { status: response.status, violations: response.headers.get('sl-violations') },
          `the request (${JSON.stringify(error)})`,
        );
        exercised++;
      },
    );

    // After the API operations: a client-credentials token is fetched by the first of them.
    it.each(
      [...authOps].map(
        ([part, o]) => [`${o.method.toUpperCase()} ${o.path} (${o.op.operationId}, the auth package's ${part} request)`, part] as const,
      ),
    )('%s', async (_name, part) => {
      if (part === 'revocation') {
        expect(revoke, 'the auth package can revoke').toBeDefined();
        await revoke!();
      }
      expectAccepted(sentTo(part), `the ${part} request`);
      exercised++;
    });
  });
}

afterAll(() => {
  console.log(`wire: ${exercised}/${total} operations exercised through the generated clients and the auth package`);
  expect(exercised).toBe(total);
});
