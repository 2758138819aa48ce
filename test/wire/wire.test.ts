// Every operation of every spec, called once through its generated client
// against Prism validating the request against the same spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deref, listProviders, loadSpec, operations, type Json } from '../../tools/lib/specs.ts';
import { startPrism, type Prism } from './prism.ts';

const firstExample = (media: Json | undefined): unknown => {
  if (!media) return undefined;
  if ('example' in media) return media.example;
  const first = Object.values<Json>(media.examples ?? {})[0];
  return first?.value;
};

/** openapi-fetch call arguments built from the spec's own examples. */
function callFor(doc: Json, path: string, pathItem: Json, op: Json) {
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((x) => deref(doc, x))) {
    const value = p.example ?? p.schema?.example ?? p.schema?.default ?? firstExample(p);
    if (value === undefined) throw new Error(`${op.operationId}: parameter ${p.in}.${p.name} has no example`);
    (params[p.in] ??= {})[p.name] = value;
  }
  const headers: Record<string, string> = {};
  const schemes = doc.components?.securitySchemes ?? {};
  const alternative: Json = (op.security ?? [])[0] ?? {};
  for (const name of Object.keys(alternative)) {
    if (schemes[name]?.type === 'http' && schemes[name]?.scheme === 'basic') headers.Authorization = `Basic ${btoa('wire-client:wire-secret')}`;
  }
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

let exercised = 0;
let total = 0;

for (const slug of listProviders()) {
  describe(`wire: ${slug}`, () => {
    const doc = loadSpec(slug);
    const ops = operations(doc);
    total += ops.length;
    let prism: Prism;
    let client: any;

    beforeAll(async () => {
      prism = await startPrism(slug);
      const pkg = await import(`../../packages/${slug}/src/index.ts`);
      // A fixed token: these tests check request shapes, not auth (the auth suites do that).
      client = pkg.createClient({ baseUrl: prism.baseUrl, auth: { accessToken: 'wire-test-token' } });
    });
    afterAll(() => prism?.stop());

    it.each(ops.map((o) => [`${o.method.toUpperCase()} ${o.path} (${o.op.operationId})`, o] as const))('%s', async (_name, { method, path, pathItem, op }) => {
      const init = callFor(doc, path, pathItem, op);
      const { response, error } = await client.request(method, path, init);
      const violations = response.headers.get('sl-violations');
      expect(violations, `Prism rejected the request: ${violations}`).toBeNull();
      expect(response.status, JSON.stringify(error)).toBeLessThan(400);
      exercised++;
    });
  });
}

afterAll(() => {
  console.log(`wire: ${exercised}/${total} operations exercised through the generated clients`);
  expect(exercised).toBe(total);
});
