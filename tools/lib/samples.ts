// A TypeScript sample per operation, for the API reference (`x-codeSamples`):
// the package import, createClient with the provider's auth, the typed call
// with the spec's examples, and a line that uses `data`. Built from the same
// pieces as the README, so both say the same thing; tools/test/samples.test.ts
// compiles every one against the built packages.

import { pointerTokens } from '../../packages/auth/src/pointer.ts';
import { authenticated, authSnippet, requestArg, revocationSnippet, str } from './readme.ts';
import { allProperties, allRequired, deref, type Json, type Operation, operations, packageName } from './specs.ts';

interface CodeSample {
  lang: 'TypeScript';
  /** Matches the tab configured in tools/redocly/docs.yaml. */
  label: 'TypeScript';
  source: string;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `.name` or `['odd-name']`, to read a property in the sample. */
const member = (name: string) => (IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);

/** The JSON schema of the operation's first 2xx response, if it has one. */
function successSchema(doc: Json, op: Json): Json | undefined {
  const ok = Object.entries<Json>(op.responses ?? {}).find(([status]) => /^2/.test(status))?.[1];
  const content = deref(doc, ok)?.content ?? {};
  const media = Object.entries<Json>(content).find(([type]) => JSON_TYPE.test(type))?.[1];
  return media?.schema ? deref(doc, media.schema) : undefined;
}

/** Follows a JSON pointer (`/data/experts`) through a schema's properties. */
function schemaAt(doc: Json, schema: Json | undefined, pointer: string): Json | undefined {
  let at = schema;
  for (const key of pointerTokens(pointer)) at = at && deref(doc, allProperties(doc, at)[key]);
  return at;
}

/** A property the spec promises (a required one), so reading it type-checks without `?.`. */
function promisedField(doc: Json, schema: Json | undefined): string | undefined {
  if (!schema || schema.oneOf || schema.anyOf) return undefined;
  const required = allRequired(doc, schema);
  const properties = allProperties(doc, schema);
  // A property that is always null (`type: 'null'`) says nothing worth printing.
  return required.find((name) => name in properties && deref(doc, properties[name]).type !== 'null');
}

/** The lines after `createClient`: the typed call and what it does with `data`. */
function callLines(doc: Json, operation: Operation): string[] {
  const { method, path, op } = operation;
  const request = requestArg(doc, operation);
  const pagination = op['x-portico-pagination'];
  if (pagination && method === 'get') {
    const item = schemaAt(doc, successSchema(doc, op), String(pagination.items));
    const field = promisedField(doc, item?.items ? deref(doc, item.items) : undefined);
    return [
      '// Every item, page after page; `maxPages` bounds the walk.',
      `for await (const item of client.paginate(${str(path)}${request || ', {}'}, { maxPages: 10 })) {`,
      `  console.log(item${field ? member(field) : ''});`,
      '}',
    ];
  }
  const schema = successSchema(doc, op);
  const field = promisedField(doc, schema);
  // A 2xx without a body (204 beside 200) leaves `data` undefined on that path.
  const maybe = Object.entries<Json>(op.responses ?? {}).some(([status, r]) => /^2/.test(status) && !deref(doc, r)?.content);
  const read = (name: string) => (maybe ? `data?.${IDENTIFIER.test(name) ? name : `[${JSON.stringify(name)}]`}` : `data${member(name)}`);
  const use = schema?.type === 'array' ? read('length') : field ? read(field) : 'data';
  return [
    `const { data, error } = await client.${method.toUpperCase()}(${str(path)}${request});`,
    `if (error) throw new Error(${str(`${op.operationId ?? `${method.toUpperCase()} ${path}`} failed: `)} + JSON.stringify(error));`,
    `console.log(${use});`,
  ];
}

/** Which of the endpoints the auth layer calls itself (authorize, token, revoke) `op` is, if any. */
function authEndpoint(doc: Json, op: Json): 'authorization' | 'token' | 'revocation' | undefined {
  const profile = doc['x-portico-auth'] ?? {};
  return (['authorization', 'token', 'revocation'] as const).find(
    (part) => profile[part]?.operationId && profile[part].operationId === op.operationId,
  );
}

export function codeSample(slug: string, doc: Json, operation: Operation): string {
  const { op } = operation;
  const endpoint = authEndpoint(doc, op);
  // The call that revokes, not the sign-in: the package has a function for every revocation its profile declares.
  if (endpoint === 'revocation') return `${revocationSnippet(slug, doc)}\n`;
  if (endpoint) {
    return `// ${packageName(slug)} calls this endpoint for you: authenticate like this.\n${authSnippet(slug, doc)}`;
  }
  const secured = authenticated(doc)(operation);
  const setup = secured ? authSnippet(slug, doc) : `import { createClient } from '${packageName(slug)}';\n\nconst client = createClient();`;
  return `${setup}\n\n${callLines(doc, operation).join('\n')}\n`;
}

/** The spec with an `x-codeSamples` TypeScript sample on every operation (a copy; the input is not changed). */
export function withCodeSamples(slug: string, doc: Json): Json {
  const copy: Json = structuredClone(doc);
  for (const operation of operations(copy)) {
    const sample: CodeSample = { lang: 'TypeScript', label: 'TypeScript', source: codeSample(slug, doc, operation) };
    operation.op['x-codeSamples'] = [sample];
  }
  return copy;
}
