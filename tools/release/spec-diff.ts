// Classifies the change between two versions of a provider spec as the semver
// bump its generated package needs. The rules look at each change from the
// client's side: what the user's code sends (requests must not narrow) and
// what it receives (responses must not lose or retype anything), plus the
// Portico extensions the runtime executes (the auth profile, envelopes,
// pagination), which no generic OpenAPI diff knows about.
import { isDeepStrictEqual } from 'node:util';
import { pointerTokens } from '../../packages/auth/src/pointer.ts';
import { HTTP_METHODS, type Json } from '../lib/specs.ts';

export type Bump = 'major' | 'minor' | 'patch';

export interface Change {
  bump: Bump;
  /** Where in the API: an operation, parameter, body or response field. */
  where: string;
  what: string;
}

const RANK: Record<Bump, number> = { patch: 1, minor: 2, major: 3 };

export function rank(bump: Bump | undefined): number {
  return bump ? RANK[bump] : 0;
}

export function highest(changes: readonly Change[]): Bump | undefined {
  let best: Bump | undefined;
  for (const c of changes) if (rank(c.bump) > rank(best)) best = c.bump;
  return best;
}

/** Keys that only document: changing them never changes a type or a request. */
const DOC_KEYS = new Set(['description', 'summary', 'title', 'example', 'examples', 'externalDocs', '$comment', 'tags']);

type Direction = 'request' | 'response';

class Diff {
  readonly changes: Change[] = [];
  readonly #stack = new Set<string>();

  constructor(
    readonly base: Json,
    readonly head: Json,
  ) {}

  add(bump: Bump, where: string, what: string) {
    this.changes.push({ bump, where, what });
  }

  /** Compares keys nobody handled: documentation is a patch, anything else is treated as breaking. */
  rest(b: Json | undefined, h: Json | undefined, handled: readonly string[], where: string) {
    const keys = new Set([...Object.keys(b ?? {}), ...Object.keys(h ?? {})]);
    for (const key of keys) {
      if (handled.includes(key) || isDeepStrictEqual(b?.[key], h?.[key])) continue;
      if (DOC_KEYS.has(key)) this.add('patch', where, `${key} changed`);
      else this.add('major', where, `${key} changed (not classified by the release rules, so treated as breaking)`);
    }
  }

  resolve(doc: Json, value: any): { value: any; ref?: string } {
    let ref: string | undefined;
    let v = value;
    for (let i = 0; v && typeof v === 'object' && typeof v.$ref === 'string' && i < 32; i++) {
      ref = v.$ref;
      v = pointerTokens(v.$ref.replace(/^#/, '')).reduce((o: any, k: string) => o?.[k], doc);
    }
    return { value: v, ref };
  }

  root() {
    const { base: b, head: h } = this;
    if (!isDeepStrictEqual(b.info, h.info)) this.add('patch', 'info', 'title, description or version text changed');
    this.auth();
    for (const key of ['x-portico-envelope', 'security']) {
      if (!isDeepStrictEqual(b[key], h[key])) this.add('major', key, 'changed: how every response is read or authorized changes');
    }
    this.servers(b.servers, h.servers, 'servers', true);
    this.securitySchemes();
    this.paths();
    this.webhooks();
    this.rest(
      b,
      h,
      ['openapi', 'info', 'x-portico-auth', 'x-portico-envelope', 'security', 'servers', 'components', 'paths', 'webhooks'],
      'document',
    );
  }

  auth() {
    const { description: bd, ...b } = this.base['x-portico-auth'] ?? {};
    const { description: hd, ...h } = this.head['x-portico-auth'] ?? {};
    if (!isDeepStrictEqual(b, h)) {
      for (const path of differingPaths(b, h))
        this.add(
          'major',
          'auth profile (x-portico-auth)',
          `${path || '/'} changed: existing credentials or token handling may stop working`,
        );
    } else if (bd !== hd) this.add('patch', 'auth profile (x-portico-auth)', 'description changed');
  }

  servers(b: Json[] | undefined, h: Json[] | undefined, where: string, root: boolean) {
    const strip = (list: Json[] | undefined) =>
      (list ?? []).map((s) => ({
        ...withoutDocs(s),
        variables: Object.fromEntries(Object.entries<Json>(s.variables ?? {}).map(([k, v]) => [k, withoutDocs(v)])),
      }));
    if (isDeepStrictEqual(strip(b), strip(h))) {
      if (!isDeepStrictEqual(b, h)) this.add('patch', where, 'server descriptions changed');
      return;
    }
    if (!root) return this.add('major', where, 'servers changed: requests go elsewhere');
    if (b?.[0]?.url !== h?.[0]?.url) this.add('major', where, `default server changed from ${b?.[0]?.url} to ${h?.[0]?.url}`);
    const byUrl = (list: Json[] | undefined) => new Map((list ?? []).map((s) => [s.url as string, s]));
    const bm = byUrl(b);
    const hm = byUrl(h);
    for (const [url] of bm) if (!hm.has(url)) this.add('major', where, `server ${url} removed`);
    for (const [url] of hm) if (!bm.has(url)) this.add('minor', where, `server ${url} added`);
    for (const [url, bs] of bm) {
      const hs = hm.get(url);
      if (!hs) continue;
      for (const name of new Set([...Object.keys(bs.variables ?? {}), ...Object.keys(hs.variables ?? {})])) {
        const bv = bs.variables?.[name];
        const hv = hs.variables?.[name];
        const at = `${where} ${url} variable ${name}`;
        if (!bv || !hv) this.add('major', at, bv ? 'removed' : 'added');
        else {
          if (bv.default !== hv.default) this.add('major', at, `default changed from ${bv.default} to ${hv.default}`);
          this.enumValues(bv.enum, hv.enum, 'request', at);
        }
      }
    }
  }

  securitySchemes() {
    const b: Json = this.base.components?.securitySchemes ?? {};
    const h: Json = this.head.components?.securitySchemes ?? {};
    for (const name of new Set([...Object.keys(b), ...Object.keys(h)])) {
      const where = `security scheme ${name}`;
      if (!b[name] || !h[name]) {
        this.add(b[name] ? 'major' : 'minor', where, b[name] ? 'removed' : 'added');
        continue;
      }
      const flows = new Set([...Object.keys(b[name].flows ?? {}), ...Object.keys(h[name].flows ?? {})]);
      for (const flow of flows) {
        const bf = b[name].flows?.[flow];
        const hf = h[name].flows?.[flow];
        if (!bf || !hf) {
          this.add(bf ? 'major' : 'minor', `${where} flow ${flow}`, bf ? 'removed' : 'added');
          continue;
        }
        for (const scope of Object.keys(bf.scopes ?? {}))
          if (!(scope in (hf.scopes ?? {}))) this.add('major', `${where} scopes`, `scope ${scope} removed from the Scope type`);
        for (const scope of Object.keys(hf.scopes ?? {}))
          if (!(scope in (bf.scopes ?? {}))) this.add('minor', `${where} scopes`, `scope ${scope} added`);
        if (!isDeepStrictEqual(bf.scopes, hf.scopes) && Object.keys(bf.scopes ?? {}).join() === Object.keys(hf.scopes ?? {}).join())
          this.add('patch', `${where} scopes`, 'scope descriptions changed');
        this.rest(bf, hf, ['scopes'], `${where} flow ${flow}`);
      }
      this.rest(b[name], h[name], ['flows'], where);
    }
  }

  paths() {
    const ops = (doc: Json) => {
      const map = new Map<string, { op: Json; item: Json }>();
      for (const [path, raw] of Object.entries<Json>(doc.paths ?? {})) {
        const item = this.resolve(doc, raw).value ?? {};
        for (const m of HTTP_METHODS) if (item[m]) map.set(`${m.toUpperCase()} ${path}`, { op: item[m], item });
      }
      return map;
    };
    const b = ops(this.base);
    const h = ops(this.head);
    for (const key of b.keys()) if (!h.has(key)) this.add('major', key, 'operation removed');
    for (const key of h.keys()) if (!b.has(key)) this.add('minor', key, 'operation added');
    for (const [key, bo] of b) {
      const ho = h.get(key);
      if (ho) this.operation(bo.op, ho.op, bo.item, ho.item, key);
    }
    for (const path of Object.keys(this.base.paths ?? {})) {
      const bItem = this.resolve(this.base, this.base.paths[path]).value;
      const hItem = this.resolve(this.head, this.head.paths?.[path]).value;
      if (hItem) this.rest(bItem, hItem, [...HTTP_METHODS, 'parameters', 'servers'], path);
    }
  }

  /** Webhook payloads are data the user's code receives, so they follow the response rules. */
  webhooks() {
    const b: Json = this.base.webhooks ?? {};
    const h: Json = this.head.webhooks ?? {};
    for (const name of new Set([...Object.keys(b), ...Object.keys(h)])) {
      const where = `webhook ${name}`;
      const bItem = this.resolve(this.base, b[name]).value;
      const hItem = this.resolve(this.head, h[name]).value;
      if (!bItem || !hItem) {
        this.add(bItem ? 'major' : 'minor', where, bItem ? 'removed' : 'added');
        continue;
      }
      for (const method of HTTP_METHODS) {
        const bo = bItem[method];
        const ho = hItem[method];
        if (!bo && !ho) continue;
        if (!bo || !ho) {
          this.add(bo ? 'major' : 'minor', `${where} ${method.toUpperCase()}`, bo ? 'removed' : 'added');
          continue;
        }
        this.content(
          this.resolve(this.base, bo.requestBody).value?.content,
          this.resolve(this.head, ho.requestBody).value?.content,
          'response',
          `${where} payload`,
        );
        // What the user's endpoint answers and which headers it reads do not change the client.
        this.rest(bo, ho, ['requestBody', 'responses', 'parameters', 'security'], where);
      }
    }
  }

  operation(b: Json, h: Json, bItem: Json, hItem: Json, where: string) {
    if (b.operationId !== h.operationId)
      this.add('major', where, `operationId renamed from ${b.operationId} to ${h.operationId} (a key of the exported operations type)`);
    if (!isDeepStrictEqual(b.security ?? this.base.security, h.security ?? this.head.security))
      this.add('major', where, 'security requirement changed');
    if (Boolean(b.deprecated) !== Boolean(h.deprecated)) this.add('minor', where, h.deprecated ? 'deprecated' : 'no longer deprecated');
    if (!isDeepStrictEqual(b['x-portico-pagination'], h['x-portico-pagination']))
      this.add('major', where, 'pagination (x-portico-pagination) changed');
    if (Boolean(b['x-portico-retry-safe']) !== Boolean(h['x-portico-retry-safe']))
      this.add('minor', where, `the runtime ${h['x-portico-retry-safe'] ? 'now retries' : 'no longer retries'} it (x-portico-retry-safe)`);
    this.servers(b.servers ?? bItem.servers, h.servers ?? hItem.servers, `${where} servers`, false);
    this.parameters(this.params(this.base, bItem, b), this.params(this.head, hItem, h), where);
    this.requestBody(b.requestBody, h.requestBody, where);
    this.responses(b.responses ?? {}, h.responses ?? {}, where);
    this.rest(
      b,
      h,
      [
        'operationId',
        'security',
        'deprecated',
        'x-portico-pagination',
        'x-portico-retry-safe',
        'servers',
        'parameters',
        'requestBody',
        'responses',
      ],
      where,
    );
  }

  /** Path-item parameters overridden by the operation's own, keyed `in name`. */
  params(doc: Json, item: Json, op: Json): Map<string, Json> {
    const map = new Map<string, Json>();
    for (const raw of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
      const p = this.resolve(doc, raw).value;
      map.set(`${p.in} parameter ${p.name}`, p);
    }
    return map;
  }

  parameters(b: Map<string, Json>, h: Map<string, Json>, where: string) {
    for (const [name, bp] of b) {
      const hp = h.get(name);
      const at = `${where}: ${name}`;
      if (!hp) {
        this.add('major', at, 'removed');
        continue;
      }
      if (!bp.required && hp.required) this.add('major', at, 'became required');
      if (bp.required && !hp.required) this.add('minor', at, 'became optional');
      if (Boolean(bp.deprecated) !== Boolean(hp.deprecated)) this.add('minor', at, hp.deprecated ? 'deprecated' : 'no longer deprecated');
      this.schema(bp.schema, hp.schema, 'request', at);
      this.content(bp.content, hp.content, 'request', at);
      this.rest(bp, hp, ['name', 'in', 'required', 'deprecated', 'schema', 'content'], at);
    }
    for (const [name, hp] of h) {
      if (!b.has(name)) this.add(hp.required ? 'major' : 'minor', `${where}: ${name}`, hp.required ? 'added, required' : 'added, optional');
    }
  }

  requestBody(bRaw: Json | undefined, hRaw: Json | undefined, where: string) {
    const b = this.resolve(this.base, bRaw).value;
    const h = this.resolve(this.head, hRaw).value;
    const at = `${where}: request body`;
    if (!b && !h) return;
    if (!h) return this.add('major', at, 'removed');
    if (!b) return this.add(h.required ? 'major' : 'minor', at, h.required ? 'added, required' : 'added, optional');
    if (!b.required && h.required) this.add('major', at, 'became required');
    if (b.required && !h.required) this.add('minor', at, 'became optional');
    this.content(b.content, h.content, 'request', at);
    this.rest(b, h, ['required', 'content'], at);
  }

  responses(b: Json, h: Json, where: string) {
    for (const status of new Set([...Object.keys(b), ...Object.keys(h)])) {
      const br = this.resolve(this.base, b[status]).value;
      const hr = this.resolve(this.head, h[status]).value;
      const at = `${where}: response ${status}`;
      if (!br || !hr) {
        this.add(br ? 'major' : 'minor', at, br ? 'removed' : 'added');
        continue;
      }
      this.content(br.content, hr.content, 'response', at);
      const headers = new Set([...Object.keys(br.headers ?? {}), ...Object.keys(hr.headers ?? {})]);
      for (const name of headers) {
        const bh = this.resolve(this.base, br.headers?.[name]).value;
        const hh = this.resolve(this.head, hr.headers?.[name]).value;
        if (!bh || !hh) this.add(bh ? 'major' : 'minor', `${at} header ${name}`, bh ? 'removed' : 'added');
        else {
          this.schema(bh.schema, hh.schema, 'response', `${at} header ${name}`);
          this.rest(bh, hh, ['schema'], `${at} header ${name}`);
        }
      }
      this.rest(br, hr, ['content', 'headers'], at);
    }
  }

  content(b: Json | undefined, h: Json | undefined, dir: Direction, where: string) {
    for (const type of new Set([...Object.keys(b ?? {}), ...Object.keys(h ?? {})])) {
      const bm = b?.[type];
      const hm = h?.[type];
      const at = `${where} (${type})`;
      if (!bm || !hm) {
        this.add(bm ? 'major' : 'minor', at, bm ? 'media type removed' : 'media type added');
        continue;
      }
      this.schema(bm.schema, hm.schema, dir, at);
      this.rest(bm, hm, ['schema'], at);
    }
  }

  /**
   * Schemas, direction-aware: in a request, narrowing what is accepted breaks
   * callers; in a response, anything removed, retyped or made optional breaks
   * code that reads it, while added fields and enum values do not.
   */
  schema(bRaw: Json | undefined, hRaw: Json | undefined, dir: Direction, where: string) {
    const br = this.resolve(this.base, bRaw);
    const hr = this.resolve(this.head, hRaw);
    if (br.value === undefined && hr.value === undefined) return;
    // A recursive schema is compared once per nesting, not forever.
    const cycle = br.ref && hr.ref ? `${br.ref}|${hr.ref}|${dir}` : undefined;
    if (cycle && this.#stack.has(cycle)) return;
    if (cycle) this.#stack.add(cycle);
    try {
      this.schemaBody(flatten(this.base, br.value ?? {}, this), flatten(this.head, hr.value ?? {}, this), dir, where);
    } finally {
      if (cycle) this.#stack.delete(cycle);
    }
  }

  schemaBody(b: Json, h: Json, dir: Direction, where: string) {
    const request = dir === 'request';

    const bt = types(b);
    const ht = types(h);
    if (bt && ht) {
      for (const t of bt)
        if (!covers(ht, t)) this.add('major', where, request ? `no longer accepts ${t}` : `no longer ${t} (type narrowed)`);
      for (const t of ht)
        if (!covers(bt, t))
          this.add(request ? 'minor' : 'major', where, request ? `now also accepts ${t}` : `may now be ${t} (type widened)`);
    } else if (bt && !ht)
      this.add(request ? 'minor' : 'major', where, request ? 'now accepts any type' : 'type removed: may now be anything');
    else if (!bt && ht) this.add('major', where, `restricted to ${[...ht].join(' | ')}`);

    this.enumValues(b.enum, h.enum, dir, where);
    if (!isDeepStrictEqual(b.const, h.const)) this.add('major', where, 'const changed');

    const bp: Json = b.properties ?? {};
    const hp: Json = h.properties ?? {};
    const bReq = new Set<string>(b.required ?? []);
    const hReq = new Set<string>(h.required ?? []);
    for (const name of Object.keys(bp)) {
      const at = `${where}.${name}`;
      if (!(name in hp)) {
        this.add('major', at, request ? 'removed from the request' : 'removed from the response');
        continue;
      }
      if (!bReq.has(name) && hReq.has(name)) this.add(request ? 'major' : 'minor', at, request ? 'became required' : 'now always present');
      if (bReq.has(name) && !hReq.has(name)) this.add(request ? 'minor' : 'major', at, request ? 'became optional' : 'may now be absent');
      this.schema(bp[name], hp[name], dir, at);
    }
    for (const name of Object.keys(hp)) {
      if (name in bp) continue;
      const at = `${where}.${name}`;
      if (request)
        this.add(
          hReq.has(name) ? 'major' : 'minor',
          at,
          hReq.has(name) ? 'added to the request, required' : 'added to the request, optional',
        );
      else this.add('minor', at, 'added to the response');
    }

    if (b.items || h.items) this.schema(b.items, h.items, dir, `${where}[]`);
    this.additional(b.additionalProperties, h.additionalProperties, dir, where);
    this.variants(b, h, dir, where);
    this.constraints(b, h, dir, where);
    if (Boolean(b.deprecated) !== Boolean(h.deprecated)) this.add('minor', where, h.deprecated ? 'deprecated' : 'no longer deprecated');
    if (!isDeepStrictEqual(b.xml, h.xml)) this.add('minor', where, 'XML mapping changed: the runtime decodes XML responses differently');
    if (!isDeepStrictEqual(b.default, h.default)) this.add('patch', where, 'default changed');
    this.rest(
      b,
      h,
      [
        'type',
        'nullable',
        'enum',
        'const',
        'properties',
        'required',
        'items',
        'additionalProperties',
        'oneOf',
        'anyOf',
        'deprecated',
        'xml',
        'default',
        ...CONSTRAINTS,
      ],
      where,
    );
  }

  enumValues(b: unknown[] | undefined, h: unknown[] | undefined, dir: Direction, where: string) {
    if (!b && !h) return;
    if (!h) return this.add(dir === 'request' ? 'minor' : 'major', where, 'enum removed: any value now');
    if (!b) return this.add('major', where, 'restricted to an enum');
    for (const v of b) if (!h.some((x) => isDeepStrictEqual(x, v))) this.add('major', where, `enum value ${JSON.stringify(v)} removed`);
    for (const v of h) if (!b.some((x) => isDeepStrictEqual(x, v))) this.add('minor', where, `enum value ${JSON.stringify(v)} added`);
  }

  additional(b: unknown, h: unknown, dir: Direction, where: string) {
    if (b && typeof b === 'object' && h && typeof h === 'object') return this.schema(b as Json, h as Json, dir, `${where}{}`);
    if (isDeepStrictEqual(b, h)) return;
    const closed = h === false;
    this.add(closed ? 'major' : 'minor', where, closed ? 'additional properties no longer allowed' : 'additional properties allowed');
  }

  variants(b: Json, h: Json, dir: Direction, where: string) {
    for (const key of ['oneOf', 'anyOf'] as const) {
      const bv: Json[] = b[key] ?? [];
      const hv: Json[] = h[key] ?? [];
      const id = (v: Json, i: number) => v.$ref ?? `#${i}`;
      const bm = new Map(bv.map((v, i) => [id(v, i), v]));
      const hm = new Map(hv.map((v, i) => [id(v, i), v]));
      for (const [k, v] of bm) {
        if (hm.has(k)) this.schema(v, hm.get(k), dir, `${where} ${key} ${k}`);
        else this.add('major', where, `${key} variant ${k} removed`);
      }
      for (const k of hm.keys()) {
        if (!bm.has(k))
          this.add(
            dir === 'request' ? 'minor' : 'major',
            where,
            `${key} variant ${k} added${dir === 'response' ? ': code reading the response must handle it' : ''}`,
          );
      }
    }
  }

  constraints(b: Json, h: Json, dir: Direction, where: string) {
    for (const key of CONSTRAINTS) {
      if (isDeepStrictEqual(b[key], h[key])) continue;
      // Constraints on what the client receives document values, they do not change types.
      if (dir === 'response') {
        this.add('patch', where, `${key} changed`);
        continue;
      }
      const tighter =
        h[key] !== undefined &&
        (b[key] === undefined ||
          (key.startsWith('max')
            ? h[key] < b[key]
            : key.startsWith('min')
              ? h[key] > b[key]
              : key === 'uniqueItems'
                ? h[key] === true
                : true));
      this.add(
        tighter ? 'major' : 'minor',
        where,
        tighter ? `${key} tightened (${b[key] ?? 'none'} → ${h[key]}): requests that passed may be rejected` : `${key} relaxed`,
      );
    }
  }
}

const CONSTRAINTS = [
  'maxLength',
  'minLength',
  'maximum',
  'minimum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'pattern',
  'format',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'maxProperties',
  'minProperties',
];

function withoutDocs(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !DOC_KEYS.has(k)));
}

/** JSON pointers under which two values differ (leaves only). */
function differingPaths(b: unknown, h: unknown, at = ''): string[] {
  if (isDeepStrictEqual(b, h)) return [];
  if (b && h && typeof b === 'object' && typeof h === 'object' && !Array.isArray(b) && !Array.isArray(h)) {
    const keys = new Set([...Object.keys(b), ...Object.keys(h)]);
    return [...keys].flatMap((k) => differingPaths((b as Json)[k], (h as Json)[k], `${at}/${k}`));
  }
  return [at];
}

/** The set of JSON types a schema admits, or undefined when it admits anything. */
function types(s: Json): Set<string> | undefined {
  const out = new Set<string>();
  if (Array.isArray(s.type)) for (const t of s.type) out.add(t);
  else if (typeof s.type === 'string') out.add(s.type);
  else if (s.properties) out.add('object');
  else if (s.enum || s.const !== undefined || s.oneOf || s.anyOf) return undefined;
  if (s.nullable) out.add('null');
  return out.size ? out : undefined;
}

function covers(set: Set<string>, t: string): boolean {
  return set.has(t) || (t === 'integer' && set.has('number'));
}

/** Resolves references and merges allOf parts, so a field's home in the schema does not matter. */
function flatten(doc: Json, schema: Json, diff: Diff): Json {
  const { allOf, ...own } = schema;
  if (!allOf) return schema;
  const out: Json = { ...own };
  for (const raw of allOf as Json[]) {
    const part = flatten(doc, diff.resolve(doc, raw).value ?? {}, diff);
    for (const [k, v] of Object.entries(part)) {
      if (k === 'properties') out.properties = { ...out.properties, ...v };
      else if (k === 'required') out.required = [...new Set([...(out.required ?? []), ...v])];
      else if (!(k in out)) out[k] = v;
    }
  }
  return out;
}

/** Every change between two versions of a spec; a missing base means a new provider. */
export function diffSpecs(base: Json | undefined, head: Json): Change[] {
  if (!base) return [{ bump: 'minor', where: 'package', what: 'new provider' }];
  const diff = new Diff(base, head);
  diff.root();
  return diff.changes;
}
