// Every API operation of every provider, called as the spec's examples say,
// answers 2xx with a body valid against the operation's own schema: in JSON,
// and in XML where a representation parameter offers it (decoded by the shape
// the client reads it with). Lists are checked on every page of a walk.
import * as dapi from '@portico/dapi';
import * as fdx from '@portico/fdx';
import * as finexer from '@portico/finexer';
import { decodeXml } from '@portico/runtime/xml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { providers } from '../src/generated/index.js';
import { createMock, type Mock, type ProviderSlug } from '../src/index.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
type Json = Record<string, any>;
const through = (mock: Mock) => ((input: RequestInfo | URL, init?: RequestInit) => mock.handle(new Request(input, init))) as typeof fetch;

/**
 * An access token with every scope the spec documents, and the values that
 * are this client's and this user's (Dapi's appSecret and userSecret), which
 * a request body carries in place of the spec's example values.
 */
async function signIn(slug: ProviderSlug, mock: Mock): Promise<{ token: string; own: Record<string, string> }> {
  if (slug === 'dapi') {
    const linked = mock.controller.connect() as Record<string, string>;
    const own = { appSecret: mock.client.appSecret!, ...linked };
    const token = (await dapi.exchangeToken(own as never, { ...(mock.authOptions as object), fetch: through(mock) })).accessToken;
    return { token, own };
  }
  return { token: await tokenFor(slug, mock), own: {} };
}

async function tokenFor(slug: ProviderSlug, mock: Mock): Promise<string> {
  switch (slug) {
    case 'fdx': {
      const f = fdx.oauth({ ...mock.client, ...(mock.authOptions as object), fetch: through(mock) });
      const request = await f.authorizationUrl({ scope: ['customers', 'accounts', 'transactions', 'statements'] });
      return (await f.exchangeCode(mock.controller.approve(request.url), { state: request.state, codeVerifier: request.codeVerifier! }))
        .accessToken;
    }
    case 'finexer': {
      const f = finexer.oauth({ ...mock.client, ...(mock.authOptions as object), fetch: through(mock) });
      const request = await f.authorizationUrl({ scope: ['customer_read', 'customer_write'] });
      return (await f.exchangeCode(mock.controller.approve(request.url), { state: request.state })).accessToken;
    }
    default: {
      const response = await mock.handle(
        new Request(String((mock.authOptions as { tokenUrl: string }).tokenUrl), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${btoa(`${mock.client.clientId}:${mock.client.clientSecret}`)}`,
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
        }),
      );
      if (response.ok) return ((await response.json()) as { access_token: string }).access_token;
      const post = await mock.handle(
        new Request(String((mock.authOptions as { tokenUrl: string }).tokenUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: mock.client.clientId!,
            client_secret: mock.client.clientSecret!,
          }),
        }),
      );
      return ((await post.json()) as { data: { accessToken: string } }).data.accessToken;
    }
  }
}

const deref = (doc: Json, value: Json | undefined): Json | undefined => {
  let v = value;
  for (let i = 0; v?.$ref && i < 10; i++)
    v = v.$ref
      .slice(2)
      .split('/')
      .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  return v;
};
const exampleOf = (doc: Json, holder: Json | undefined) =>
  holder?.example ??
  deref(doc, Object.values<Json>(holder?.examples ?? {})[0])?.value ??
  holder?.schema?.example ??
  holder?.schema?.default;

for (const slug of Object.keys(providers) as ProviderSlug[]) {
  describe(`${slug}: every operation answers a body its schema accepts`, () => {
    const { document: doc, meta } = providers[slug];
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    for (const f of ['int32', 'int64', 'float', 'double', 'password']) ajv.addFormat(f, true);
    ajv.addSchema(doc, 'spec');
    const auth = doc['x-portico-auth'];
    const authIds = new Set([auth.authorization?.operationId, auth.token?.operationId, auth.revocation?.operationId]);
    const server = String(doc.servers[0].url).replace(/\{([^}]+)\}/g, (_: string, n: string) => doc.servers[0].variables[n].default);
    const base = new URL(server).pathname.replace(/\/$/, '');

    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'delete', 'patch']) {
        const op = item[method];
        if (!op || authIds.has(op.operationId)) continue;
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => deref(doc, p)!);
        const representation = params.find((p) => p['x-portico-representation']);
        const formats: string[] = representation ? Object.keys(representation['x-portico-representation']) : [''];
        for (const format of formats) {
          it(`${op.operationId}${format ? ` (${format})` : ''}`, async () => {
            const mock = createMock(slug, { listLength: 5 });
            const { token, own } = await signIn(slug, mock);
            let url = `http://127.0.0.1${base}${path}`;
            const query = new URLSearchParams();
            for (const p of params) {
              const value = p === representation ? format : exampleOf(doc, p);
              if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
              if (p.in === 'query' && value !== undefined) for (const v of [value].flat()) query.append(p.name, String(v));
            }
            const body = deref(doc, op.requestBody);
            const media = body
              ? format === 'xml' && body.content['application/xml']
                ? 'application/xml'
                : Object.keys(body.content)[0]!
              : undefined;
            const documented = media ? exampleOf(doc, body!.content[media]) : undefined;
            const example =
              documented !== null && typeof documented === 'object' && !Array.isArray(documented)
                ? Object.fromEntries(Object.entries(documented).map(([k, v]) => [k, Object.hasOwn(own, k) ? own[k] : v]))
                : documented;
            const encoded =
              media === undefined || example === undefined
                ? undefined
                : media === 'application/x-www-form-urlencoded'
                  ? new URLSearchParams(
                      Object.entries(example).flatMap(([k, v]) =>
                        typeof v === 'object' && !Array.isArray(v)
                          ? Object.entries(v as Json).map(([s, x]) => [`${k}[${s}]`, String(x)])
                          : [v].flat().map((x) => [k, String(x)]),
                      ),
                    )
                  : media === 'application/xml'
                    ? meta[`${method.toUpperCase()} ${path}`]!.representation!.body &&
                      (await import('@portico/runtime/xml')).xml.encode(
                        example,
                        meta[`${method.toUpperCase()} ${path}`]!.representation!.body!,
                      )
                    : JSON.stringify(example);
            const walk: unknown[] = [];
            let next: string | undefined = `${url}${query.size ? `?${query}` : ''}`;
            for (let page = 0; next && page < 10; page++) {
              const response = await mock.handle(
                new Request(next, {
                  method: method.toUpperCase(),
                  headers: { authorization: `Bearer ${token}`, ...(media ? { 'content-type': media } : {}) },
                  ...(encoded === undefined ? {} : { body: encoded }),
                }),
              );
              expect(response.status, await response.clone().text()).toBeLessThan(300);
              const status = String(response.status);
              const type = response.headers.get('content-type') ?? '';
              const schema = deref(doc, op.responses[status])?.content?.[type]?.schema;
              if (!schema) break;
              const text = await response.text();
              const shape =
                meta[`${method.toUpperCase()} ${path}`]!.shapes?.[status] ?? meta[`${method.toUpperCase()} ${path}`]!.shapes?.default;
              const value = type.includes('xml') ? decodeXml(text, shape!) : JSON.parse(text);
              const pointer = `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}`;
              const target = op.responses[status].$ref ? op.responses[status].$ref.slice(1) : pointer;
              const validate =
                ajv.getSchema(`spec#${target}/content/${type.replace(/\//g, '~1')}/schema`.replace(/[{}]/g, encodeURIComponent)) ??
                ajv.compile({ $ref: `spec#${target}/content/${type.replace(/\//g, '~1')}/schema`.replace(/[{}]/g, encodeURIComponent) });
              expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
              walk.push(value);
              const rules = op['x-portico-pagination'];
              const link = rules?.nextUrl
                ? rules.nextUrl
                    .split('/')
                    .slice(1)
                    .reduce((o: Json, k: string) => o?.[k], value)
                : undefined;
              const cursor = rules?.nextCursor
                ? rules.nextCursor
                    .split('/')
                    .slice(1)
                    .reduce((o: Json, k: string) => o?.[k], value)
                : undefined;
              if (typeof link === 'string') next = link;
              else if (cursor !== undefined)
                next = `${url}?${new URLSearchParams({ ...Object.fromEntries(query), [rules.cursorParam]: String(cursor) })}`;
              else next = undefined;
            }
            expect(walk.length).toBeGreaterThan(0);
          });
        }
      }
    }
  });
}
