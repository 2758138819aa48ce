// `pnpm new-provider <slug> --from <path or URL>`: reads an OpenAPI 3.0 or 3.1
// document written elsewhere, derives its `x-portico-auth` from the security
// schemes and the operations' requirements, and gives back the text of
// specs/<slug>/openapi.yaml: the document as it was (JSON stays JSON, YAML
// keeps its comments and layout) with the profile and the import marker added.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import { defaultServerUrl, deref, type Json, operations } from './specs.ts';

/** A problem with what the user asked to import: one line, and the exit code it ends the command with. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

// C0, DEL and C1 (ESC's 8-bit forms, CSI and OSC among them), the bidi
// controls and the line separators: the characters packages/cli/src/terminal.ts
// keeps off the terminal too. In the document's text (an operationId, a
// scheme's name, a path) they would be commands to the user's terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is its purpose.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from the document for the terminal, on one line: each hidden character written as its `\uXXXX` escape. */
export const printable = (text: string) => text.replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Larger than any published document seen (GitHub's is 13 MB), small enough to hold in memory. */
const MAX_BYTES = 64 * 2 ** 20;
const TIMEOUT_MS = 30_000;

export interface Source {
  /**
   * What the marker records. A file in the tree: its path from the tree's root.
   * A file outside it: its name only, since the rest (a home or download
   * directory) means nothing on another machine and says who imported it; the
   * SHA-256 beside it identifies the bytes. A URL: its origin and path, without
   * the query and fragment, where a signed link or a token would be.
   */
  source: string;
  bytes: Buffer;
}

const sizeOf = (n: number) => {
  const [value, unit] = n >= 2 ** 20 ? [n / 2 ** 20, 'MiB'] : n >= 1024 ? [n / 1024, 'KiB'] : [n, 'bytes'];
  return `${value.toFixed(1).replace(/\.0$/, '')} ${unit}`;
};

/** The document's bytes, from a file or an http(s) URL, within `maxBytes` (and, for a URL, `timeoutMs`). */
export async function readSource(
  from: string,
  root: string,
  { timeoutMs = TIMEOUT_MS, maxBytes = MAX_BYTES }: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<Source> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) return fetchSource(from, timeoutMs, maxBytes);
  // pnpm and npm run a script in the workspace root; INIT_CWD is where the user typed the path.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), from);
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ImportError(`${from} is not a file`);
    size = stat.size;
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError(`cannot read ${from}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > maxBytes) throw new ImportError(`${from} is ${sizeOf(size)}, more than the ${sizeOf(maxBytes)} an import reads`);
  const inTree = relative(root, path);
  const source = inTree && !inTree.startsWith('..') && !isAbsolute(inTree) ? inTree.split(sep).join('/') : basename(path);
  return { source, bytes: readFileSync(path) };
}

/** Redirects followed at most: a moved document takes one or two. */
const MAX_REDIRECTS = 5;

/** `url` as messages and the marker name it: without its user info, query and fragment, where a secret would be. */
const urlLabel = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

/**
 * The URL checked before it is fetched, the first one and each redirect's
 * alike: http(s) only, and no credentials in it (they would be recorded).
 */
function fetchable(url: URL): void {
  const what = urlLabel(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ImportError(`${what}: only http and https URLs can be imported`);
  if (url.username || url.password) throw new ImportError(`${what}: a URL with credentials in it is not fetched (they would be recorded)`);
}

async function fetchSource(from: string, timeoutMs: number, maxBytes: number): Promise<Source> {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new ImportError('the --from URL is not a valid URL');
  }
  fetchable(url);
  // One time bound for every hop and the body.
  const signal = AbortSignal.timeout(timeoutMs);
  let what = urlLabel(url);
  const failed = (e: unknown): never => {
    if (signal.aborted) throw new ImportError(`${what} did not answer within ${timeoutMs / 1000} s`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ImportError(`cannot fetch ${what}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  };
  let response: Response;
  // Redirects are followed here, not by fetch: each target is checked as the first URL was, and the last is the one recorded.
  for (let hops = 0; ; hops++) {
    response = await fetch(url, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/yaml, application/json;q=0.9, */*;q=0.5' },
    }).catch(failed);
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) break;
    await response.body?.cancel().catch(() => {});
    if (hops === MAX_REDIRECTS) throw new ImportError(`${what} redirects more than ${MAX_REDIRECTS} times`);
    const next = URL.parse(location, url);
    if (!next) throw new ImportError(`${what} redirects to an invalid URL`);
    fetchable(next);
    url = next;
    what = urlLabel(url);
  }
  // The status code only: the reason phrase is the server's text.
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new ImportError(`${what} answered ${response.status}, not a document`);
  }
  const declared = Number(response.headers.get('content-length'));
  const tooLarge = () => new ImportError(`${what} is more than the ${sizeOf(maxBytes)} an import reads`);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    if (e instanceof ImportError) throw e;
    failed(e);
  }
  return { source: what, bytes: Buffer.concat(chunks) };
}

/** Where an http URL goes in clear text: anywhere but this machine. */
function plainHttp(url: string): boolean {
  const parsed = URL.parse(url);
  if (parsed?.protocol !== 'http:') return false;
  const host = parsed.hostname;
  return !(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

/**
 * What the user is warned of, one line each: a document read over plain http
 * (anyone on the way could have changed it) and a first server on plain http
 * (the runtime refuses such a base URL).
 */
export function importWarnings(source: string, doc: Json): string[] {
  const server = doc.servers?.[0] === undefined ? undefined : defaultServerUrl(doc);
  return [
    ...(plainHttp(source) ? [`${source} was read over plain http: anyone on the way could have changed it`] : []),
    ...(server !== undefined && plainHttp(server)
      ? [`the first server, ${server}, is plain http: the runtime refuses it; use its https URL`]
      : []),
  ];
}

export interface Parsed {
  doc: Json;
  format: 'json' | 'yaml';
  text: string;
  /** The document's own x-portico-* keys below its top level, each as `<JSON pointer of its object> <key>`: for the user to review. */
  extensions: string[];
}

/** The document, parsed: JSON or YAML text whose top level is an OpenAPI 3.0 or 3.1 document. */
export function parseSource(label: string, bytes: Buffer): Parsed {
  let text: string;
  try {
    // A byte-order mark is dropped here (TextDecoder's default), so JSON.parse sees the `{`.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError(`${label} is not UTF-8 text, so neither YAML nor JSON`);
  }
  let doc: unknown;
  let format: Parsed['format'] = 'yaml';
  if (/^\s*[{[]/.test(text)) {
    try {
      doc = JSON.parse(text);
      format = 'json';
    } catch (e) {
      // A YAML flow mapping starts with `{` too.
      doc = yamlValue(label, text, firstLine((e as Error).message));
    }
  } else doc = yamlValue(label, text);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new ImportError(`${label} is not an OpenAPI document: its top level is not an object`);
  const version = (doc as Json).openapi;
  if (typeof version !== 'string') {
    const swagger = (doc as Json).swagger;
    throw new ImportError(
      swagger !== undefined
        ? `${label} is Swagger ${swagger} (OpenAPI 2): only OpenAPI 3.0 and 3.1 are imported; convert it first (e.g. npx swagger2openapi)`
        : `${label} is not an OpenAPI document: it has no \`openapi\` version field`,
    );
  }
  if (!/^3\.[01]\.\d+$/.test(version)) throw new ImportError(`${label} is OpenAPI ${version}: only OpenAPI 3.0 and 3.1 are imported`);
  if (!(doc as Json).info || typeof (doc as Json).paths !== 'object')
    throw new ImportError(`${label} is not a complete OpenAPI ${version} document: it needs \`info\` and \`paths\``);
  const extensions = walk(label, doc as Json);
  if ((doc as Json).servers?.[0] !== undefined) {
    try {
      defaultServerUrl(doc as Json);
    } catch (e) {
      throw new ImportError(`${label}: the first server's URL: ${(e as Error).message}`);
    }
  }
  return { doc: doc as Json, format, text, extensions };
}

/**
 * Nesting deeper than any published document's (GitHub's goes to about 30)
 * and shallow enough for every recursive reader after this one (JSON.stringify,
 * Redocly, openapi-typescript).
 */
const MAX_DEPTH = 256;

const pointerOf = (path: string[]) => path.map((k) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * One pass over the whole document, with a stack of its own (a deep document
 * would overflow the call stack). Refuses what the tools after the import
 * would follow or choke on: a `$ref` to anything but this document (Redocly
 * and openapi-typescript would read a local file into the package or fetch
 * any URL), nesting deeper than MAX_DEPTH, and a YAML alias inside the node
 * it names (a cycle). Returns the x-portico-* keys below the top level.
 */
function walk(label: string, doc: Json): string[] {
  interface Frame {
    value: Json;
    key: string;
    parent?: Frame;
    depth: number;
    /** Set once its children are on the stack: popped again, it leaves the path. */
    left?: boolean;
  }
  const path = (frame: Frame | undefined): string[] => {
    const keys: string[] = [];
    for (let f = frame; f?.parent; f = f.parent) keys.push(f.key);
    return keys.reverse();
  };
  const extensions: string[] = [];
  // An alias makes one object reachable from several places (allowed) or from inside itself (a cycle).
  const onPath = new Set<object>();
  const deepest = new Map<object, number>();
  const stack: Frame[] = [{ value: doc, key: '', depth: 0 }];
  while (stack.length) {
    const frame = stack.pop()!;
    if (frame.left) {
      onPath.delete(frame.value);
      continue;
    }
    const { value, depth } = frame;
    if (onPath.has(value))
      throw new ImportError(`${label}: a YAML alias at ${printable(pointerOf(path(frame)))} repeats a node that contains it (a cycle)`);
    // Seen before no deeper: nothing new below it.
    if ((deepest.get(value) ?? -1) >= depth) continue;
    deepest.set(value, depth);
    if (depth > MAX_DEPTH)
      throw new ImportError(`${label} nests deeper than ${MAX_DEPTH} levels (at ${printable(pointerOf(path(frame)).slice(0, 200))}...)`);
    onPath.add(value);
    stack.push({ ...frame, left: true });
    const entries = Object.entries(value);
    for (const [k, v] of entries) {
      if (k === '$ref' && typeof v === 'string' && !v.startsWith('#'))
        throw new ImportError(
          `${label}: the $ref at ${printable(pointerOf(path(frame)))} points outside the document (${printable(v.slice(0, 200))}); bundle the document into one file first (e.g. npx @redocly/cli bundle)`,
        );
      // Its own x-portico-auth is announced as such; a marker is replaced.
      if (k.startsWith('x-portico-') && !(depth === 0 && (k === 'x-portico-auth' || k === 'x-portico-imported')))
        extensions.push(`${pointerOf(path(frame)) || '/'} ${k}`);
    }
    // Last in, first out: pushed backwards, visited in the document's order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      if (v && typeof v === 'object') stack.push({ value: v, key: k, parent: frame, depth: depth + 1 });
    }
  }
  return extensions;
}

const firstLine = (s: string) => s.split('\n')[0]!.trim();

function yamlValue(label: string, text: string, jsonError?: string): unknown {
  const yaml = parseDocument(text, { prettyErrors: false });
  const error = jsonError ?? (yaml.errors[0] && firstLine(yaml.errors[0].message));
  if (yaml.errors.length) throw new ImportError(`${label} is neither JSON nor YAML: ${error}`);
  try {
    return yaml.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw new ImportError(`${label}: ${firstLine((e as Error).message)}`);
  }
}
/** Aliases expanded at most: a few anchors are common, a billion laughs is not. */
const MAX_ALIASES = 1000;

// ---------------------------------------------------------------------------
// x-portico-auth from the security schemes and requirements.

type Kind = 'apiKey' | 'basic' | 'bearer' | 'oauth2' | 'other';

/** The createClient({ auth }) fields a held scheme takes by default. */
const DEFAULT_FIELDS: Record<'apiKey' | 'basic' | 'bearer', string[]> = {
  apiKey: ['apiKey'],
  basic: ['username', 'password'],
  bearer: ['accessToken'],
};
/** OAuth's own createClient inputs: a held credential must not take them beside grants. */
const OAUTH_INPUTS = ['accessToken', 'clientId', 'clientSecret', 'tokenUrl'];

export interface DerivedAuth {
  profile: Json;
  /** Operations no credential of the profile reaches, each with why: for the closing message. */
  uncovered: string[];
  /** Schemes and alternatives left out, with why. */
  leftOut: string[];
}

interface Scheme {
  name: string;
  kind: Kind;
  /** What it is, for people: `apiKey in header X-API-Key`. */
  label: string;
  /** Why it cannot be part of the profile, when it cannot. */
  unusable?: string;
  raw: Json;
}

function describeScheme(name: string, raw: Json | undefined): Scheme {
  if (!raw || typeof raw !== 'object')
    return { name, kind: 'other', label: 'undeclared', unusable: 'not in components.securitySchemes', raw: {} };
  const type = String(raw.type);
  if (type === 'apiKey') {
    const ok = ['header', 'query', 'cookie'].includes(raw.in) && typeof raw.name === 'string' && raw.name !== '';
    return ok
      ? { name, kind: 'apiKey', label: `apiKey in ${raw.in} ${raw.name}`, raw }
      : { name, kind: 'other', label: 'apiKey', unusable: 'an apiKey scheme without a valid `in` and `name`', raw };
  }
  if (type === 'http') {
    const http = String(raw.scheme).toLowerCase();
    if (http === 'basic' || http === 'bearer') return { name, kind: http, label: `http ${http}`, raw };
    return { name, kind: 'other', label: `http ${raw.scheme}`, unusable: `http ${raw.scheme} (Portico sends basic and bearer)`, raw };
  }
  if (type === 'oauth2') {
    const flows = Object.keys(raw.flows ?? {});
    return oauthFlows(raw).code || oauthFlows(raw).client
      ? { name, kind: 'oauth2', label: `oauth2 ${flows.join(', ')}`, raw }
      : {
          name,
          kind: 'other',
          label: `oauth2 ${flows.join(', ')}`,
          unusable: `oauth2 with ${flows.join(', ') || 'no'} flows (none is an authorizationCode or clientCredentials flow with its URLs)`,
          raw,
        };
  }
  return { name, kind: 'other', label: type, unusable: `${type} (not sent by Portico)`, raw };
}

/** The flows a profile can be made of: an authorization code flow with both its URLs, a client credentials flow with its token URL. */
function oauthFlows(scheme: Json): { code?: Json; client?: Json } {
  const url = (flow: Json | undefined, name: string) => typeof flow?.[name] === 'string' && flow[name] !== '';
  const code = scheme.flows?.authorizationCode;
  const client = scheme.flows?.clientCredentials;
  return {
    ...(url(code, 'authorizationUrl') && url(code, 'tokenUrl') ? { code } : {}),
    ...(url(client, 'tokenUrl') ? { client } : {}),
  };
}

/** camelCase of a scheme name, as a JavaScript identifier: `Personal-Access_Token` -> personalAccessToken. */
function camelCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const out = words
    .map((word, i) => {
      const w = word === word.toUpperCase() ? word.toLowerCase() : word;
      return i === 0 ? w[0]!.toLowerCase() + w.slice(1) : w[0]!.toUpperCase() + w.slice(1);
    })
    .join('');
  if (!out) return 'credential';
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

const key = (requirement: Json) => Object.keys(requirement).sort().join(' + ');

/** The security requirements an operation is called with: its own, else the document's. */
const requirementsOf = (doc: Json, op: Json): Json[] =>
  Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : [];

/**
 * x-portico-auth for the document. The OAuth 2 profile is the oauth2 scheme
 * named alone by the most operations; every requirement whose schemes are all
 * apiKey, http basic or http bearer is one held alternative. Throws an
 * ImportError when nothing usable is left.
 */
export function deriveAuth(doc: Json, slug: string): DerivedAuth {
  const declared = Object.entries<Json>(doc.components?.securitySchemes ?? {});
  const schemes = new Map(declared.map(([name, raw]) => [name, describeScheme(name, deref(doc, raw))]));
  const schemeOf = (name: string) => schemes.get(name) ?? describeScheme(name, undefined);
  const ops = operations(doc);

  // The OAuth scheme: named alone in the most operations' requirements.
  const alone = new Map<string, number>();
  for (const { op } of ops) {
    for (const name of new Set(
      requirementsOf(doc, op)
        .map((r) => Object.keys(r ?? {}))
        .filter((k) => k.length === 1)
        .map((k) => k[0]!),
    )) {
      if (schemeOf(name).kind === 'oauth2') alone.set(name, (alone.get(name) ?? 0) + 1);
    }
  }
  const oauthName = [...alone].sort((a, b) => b[1] - a[1])[0]?.[0];

  // Held alternatives: distinct requirements of apiKey / basic / bearer schemes only, the most used first.
  const uses = new Map<string, { requirement: string[]; count: number; order: number }>();
  const requirementLists = [...(Array.isArray(doc.security) ? [doc.security] : []), ...ops.map(({ op }) => requirementsOf(doc, op))];
  for (const [i, list] of requirementLists.entries()) {
    for (const requirement of list as Json[]) {
      const names = Object.keys(requirement ?? {});
      if (!names.length || !names.every((n) => ['apiKey', 'basic', 'bearer'].includes(schemeOf(n).kind))) continue;
      const k = key(requirement);
      const use = uses.get(k) ?? { requirement: names, count: 0, order: uses.size };
      // The document's own list counts as no operation: it orders ties only.
      if (i > 0 || !Array.isArray(doc.security)) use.count++;
      uses.set(k, use);
    }
  }
  let alternatives = [...uses.values()].sort((a, b) => b.count - a.count || a.order - b.order).map((u) => u.requirement);
  const leftOut: string[] = [];
  const inputs = assignInputs(alternatives, schemeOf, oauthName !== undefined, leftOut);
  alternatives = inputs.alternatives;

  if (oauthName === undefined && alternatives.length === 0) {
    const found = [...schemes.values()].map((s) => `${s.name}: ${s.unusable ?? 'in no security requirement Portico can send'}`);
    throw new ImportError(
      `no security scheme Portico can send (${found.length ? found.join('; ') : 'the document declares none'}): write x-portico-auth in specs/${slug}/openapi.yaml by hand (specs/README.md, "Vendor extensions"), then run \`pnpm new-provider ${slug}\``,
    );
  }

  // Which operations get no credential, and why.
  const kept = new Set(alternatives.map((a) => key(Object.fromEntries(a.map((n) => [n, []])))));
  const uncovered: string[] = [];
  const why = new Map<string, string>();
  for (const { method, path, op } of ops) {
    const requirements = requirementsOf(doc, op);
    if (requirements.length === 0) continue;
    const reached = requirements.some((r) => {
      const names = Object.keys(r ?? {});
      return names.length === 0 || (names.length === 1 && names[0] === oauthName) || kept.has(key(r));
    });
    if (reached) continue;
    const names = [...new Set(requirements.flatMap((r) => Object.keys(r ?? {})))];
    for (const n of names) {
      const s = schemeOf(n);
      if (s.unusable) why.set(n, s.unusable);
      else if (s.kind === 'oauth2' && n !== oauthName)
        why.set(
          n,
          alone.has(n) ? `a second oauth2 scheme (the profile is ${oauthName}'s)` : 'an oauth2 scheme named only beside other schemes',
        );
    }
    uncovered.push(
      `${method.toUpperCase()} ${path}${op.operationId ? ` (${op.operationId})` : ''}: ${requirements.map((r) => key(r) || '{}').join(' or ')}`,
    );
  }
  for (const [n, reason] of why) leftOut.push(`${n}: ${reason}`);
  for (const s of schemes.values()) {
    if (s.kind === 'oauth2' && s.name !== oauthName && !why.has(s.name))
      leftOut.push(`${s.name}: an oauth2 scheme no operation names alone`);
    else if (s.unusable && !why.has(s.name)) leftOut.push(`${s.name}: ${s.unusable}`);
  }

  const held = alternatives.map((a) => Object.fromEntries(a.map((n) => [n, inputs.input.has(n) ? { input: inputs.input.get(n) } : {}])));
  const heldText = alternatives.map((a) => a.map((n) => `${n} (${schemeOf(n).label})`).join(' with ')).join(' or ');
  let profile: Json;
  if (oauthName !== undefined) {
    profile = oauthProfile(doc, oauthName, schemeOf(oauthName).raw, heldText);
    if (held.length) profile.credentials = held;
  } else if (held.length === 1 && alternatives[0]!.length === 1) {
    profile = { description: `From the document's security scheme: ${heldText}.`, securityScheme: alternatives[0]![0] };
  } else {
    profile = {
      description: `From the operations' security requirements, any one of: ${heldText}.${inputs.notes.length ? ` ${inputs.notes.join(' ')}` : ''}`,
      credentials: held,
    };
  }
  return { profile, uncovered, leftOut };
}

/**
 * The createClient({ auth }) field of each held scheme where its default
 * would be ambiguous: two schemes of one alternative, or two alternatives,
 * taking the same fields; a bearer token beside grants (OAuth's own
 * `accessToken`). Such a scheme takes the camelCase of its name. Basic always
 * takes username and password: an alternative that would repeat them is left out.
 */
function assignInputs(
  alternatives: string[][],
  schemeOf: (name: string) => Scheme,
  grants: boolean,
  leftOut: string[],
): { alternatives: string[][]; input: Map<string, string>; notes: string[] } {
  const input = new Map<string, string>();
  const notes: string[] = [];
  const fields = (name: string): string[] => {
    const kind = schemeOf(name).kind as keyof typeof DEFAULT_FIELDS;
    return input.has(name) ? [input.get(name)!] : DEFAULT_FIELDS[kind];
  };
  const named = (name: string) => {
    if (input.has(name) || schemeOf(name).kind === 'basic') return false;
    const taken = new Set([
      'username',
      'password',
      'apiKey',
      ...(grants ? OAUTH_INPUTS : []),
      ...alternatives
        .flat()
        .filter((n) => n !== name)
        .flatMap(fields),
    ]);
    const base = camelCase(name);
    let candidate = base;
    for (let i = 2; taken.has(candidate); i++) candidate = `${base}${i}`;
    input.set(name, candidate);
    return true;
  };
  let kept = alternatives;
  for (let changed = true; changed; ) {
    changed = false;
    if (grants) for (const n of kept.flat()) if (fields(n).some((f) => OAUTH_INPUTS.includes(f))) changed = named(n) || changed;
    const next: string[][] = [];
    const seen = new Map<string, string[]>();
    for (const alternative of kept) {
      // Two schemes of this alternative on one field.
      const byField = new Map<string, string[]>();
      for (const n of alternative) for (const f of fields(n)) byField.set(f, [...(byField.get(f) ?? []), n]);
      const clash = [...byField.values()].filter((names) => names.length > 1).flat();
      if (clash.length) {
        const renamed = clash.map(named).some(Boolean);
        if (!renamed) {
          leftOut.push(`${alternative.join(' + ')}: its schemes would take the same createClient fields (${clash.join(', ')})`);
          continue;
        }
        changed = true;
      }
      // Another alternative on the same fields.
      const set = alternative.flatMap(fields).sort().join(',');
      const earlier = seen.get(set);
      if (earlier) {
        const differ = [...alternative.filter((n) => !earlier.includes(n)), ...earlier.filter((n) => !alternative.includes(n))];
        if (!differ.map(named).some(Boolean)) {
          leftOut.push(`${alternative.join(' + ')}: takes the same createClient fields as ${earlier.join(' + ')}`);
          continue;
        }
        changed = true;
      }
      seen.set(set, alternative);
      next.push(alternative);
    }
    kept = next;
  }
  for (const [n, f] of input) notes.push(`\`${n}\` is passed as \`${f}\`.`);
  return { alternatives: kept, input, notes };
}

const STANDARD_ERROR = { code: '/error', description: '/error_description', uri: '/error_uri' };

/** An OAuth 2 profile from the scheme's flows, with RFC 6749's defaults where the document is silent. */
function oauthProfile(doc: Json, name: string, scheme: Json, heldText: string): Json {
  const { code, client } = oauthFlows(scheme);
  const tokenUrl = String((code ?? client)!.tokenUrl);
  const tokenField = code ? 'authorizationCode.tokenUrl' : 'clientCredentials.tokenUrl';
  const grants = [...(code ? ['authorization_code', 'refresh_token'] : []), ...(client ? ['client_credentials'] : [])];
  const url = (u: string, field: string) => profileUrl(doc, u, `${name}'s flows.${field}`);
  const requests: Json = {};
  if (code) {
    requests.authorization_code = {
      parameters: { grant_type: 'authorization_code', code: '{code}', redirect_uri: '{redirectUri}', code_verifier: '{codeVerifier}' },
    };
    requests.refresh_token = {
      ...(code.refreshUrl && code.refreshUrl !== code.tokenUrl
        ? { url: url(String(code.refreshUrl), 'authorizationCode.refreshUrl') }
        : {}),
      parameters: { grant_type: 'refresh_token', refresh_token: '{refreshToken}' },
    };
  }
  if (client) {
    requests.client_credentials = {
      ...(code && client.tokenUrl !== code.tokenUrl ? { url: url(String(client.tokenUrl), 'clientCredentials.tokenUrl') } : {}),
      parameters: { grant_type: 'client_credentials', scope: '{scope}' },
    };
  }
  const clientScopes = Object.keys(client?.scopes ?? {});
  const endpoint = tokenOperation(doc, url(tokenUrl, tokenField));
  // The document's own token operation taking client_secret in its body says client_secret_post (Box's does).
  const post = endpoint?.fields.includes('client_id') && endpoint.fields.includes('client_secret');
  const assumed = [
    ...(post ? [] : ['client authentication client_secret_basic (RFC 6749 §2.3.1 requires servers to support it)']),
    `${endpoint?.format ? '' : 'a form body with '}RFC 6749 parameter names, and the response fields access_token, token_type, expires_in, scope` +
      (code ? ' and refresh_token' : ''),
    'space-separated scopes',
    ...(code ? ['PKCE supported, not required (S256 is always sent)', 'state recommended', 'refresh tokens that may rotate'] : []),
    'no revocation endpoint',
    // RFC 6749 §3.3: without a scope the server grants the client's default; asking for
    // every listed scope fails (invalid_scope) for a client not approved for all of them.
    ...(client
      ? [
          `a client-credentials token asks for no scope unless the caller passes one (the server's default for the client)${clientScopes.length ? `; the flow lists ${clientScopes.join(', ')}` : ''}`,
        ]
      : []),
  ];
  const profile: Json = {
    description: `Unconfirmed: imported from the document's security scheme \`${name}\` (${Object.keys(scheme.flows).join(', ')})${endpoint ? ` and its token operation ${endpoint.operationId ? `\`${endpoint.operationId}\`` : `POST ${endpoint.path}`} (a ${endpoint.format ?? 'form'} body${post ? ' taking client_id and client_secret: client_secret_post' : ''})` : ', which gives only its URLs and scopes'}. Assumed: ${assumed.join('; ')}.${heldText ? ` Also accepted: ${heldText}.` : ''}`,
    securityScheme: name,
    grants,
  };
  if (code) {
    profile.authorization = {
      url: url(String(code.authorizationUrl), 'authorizationCode.authorizationUrl'),
      pkce: 'supported',
      state: 'recommended',
      parameters: {
        response_type: 'code',
        client_id: '{clientId}',
        redirect_uri: '{redirectUri}',
        scope: '{scope}',
        state: '{state}',
        code_challenge: '{codeChallenge}',
        code_challenge_method: 'S256',
      },
    };
  }
  profile.token = {
    url: url(tokenUrl, tokenField),
    ...(endpoint?.operationId ? { operationId: endpoint.operationId } : {}),
    clientAuthentication: post ? 'client_secret_post' : 'client_secret_basic',
    bodyFormat: endpoint?.format ?? 'form',
    grants: requests,
    response: {
      accessToken: '/access_token',
      tokenType: '/token_type',
      ...(code ? { refreshToken: '/refresh_token' } : {}),
      scope: '/scope',
      expiresIn: '/expires_in',
    },
    error: STANDARD_ERROR,
  };
  profile.scope = { separator: ' ' };
  if (code) profile.refresh = { rotation: 'optional' };
  profile.apply = { header: 'Authorization', scheme: 'Bearer' };
  return profile;
}

/** A server's URL with each variable at its default. */
const serverUrl = (server: Json | undefined) =>
  String(server?.url ?? '').replace(/\{([^}]+)\}/g, (_, v: string) => String(server?.variables?.[v]?.default ?? ''));

/**
 * An OAuth URL of the document as a profile URL. OpenAPI resolves a relative
 * one against the server URL by RFC 3986 (`/token` on `https://h/v2` is
 * `https://h/token`); the runtime appends a profile's path to the base URL's
 * path instead, so that a client's own baseUrl (a sandbox) moves it too. The
 * path is kept where both read the same URL, else the URL is written whole.
 */
function profileUrl(doc: Json, written: string, field: string): string {
  const refuse = (why: string) =>
    new ImportError(`${printable(field)} is ${printable(JSON.stringify(written))}, ${why}: not a URL to send credentials to`);
  // A backslash is a slash to a URL parser (`\\evil.example\token` is another host); whitespace and
  // controls make it read as other than it is.
  if (/[\\\s]/.test(written) || printable(written) !== written) throw refuse('with a backslash, whitespace or a control character');
  const base = URL.parse(serverUrl(doc.servers?.[0]));
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(written);
  const resolved = URL.parse(written, base ?? undefined);
  // `https://api.example.com@evil.example/` is evil.example's.
  if (resolved && (resolved.username || resolved.password)) throw refuse('with user info (`user@`) in it');
  if (absolute) return written;
  if (!base) return written.startsWith('/') ? written : `/${written.replace(/^\.\//, '')}`;
  if (!resolved) return written;
  const prefix = base.pathname.replace(/\/+$/, '');
  return resolved.origin === base.origin && resolved.pathname.startsWith(`${prefix}/`)
    ? `${resolved.pathname.slice(prefix.length)}${resolved.search}`
    : resolved.href;
}

/**
 * The POST operation the document publishes at the token URL (a relative one
 * taken as the runtime takes it, on the first server), with the body format
 * and fields it takes; a path with a `#` (Box's `/oauth2/token#refresh`, the
 * same URL described again) is not the endpoint.
 */
function tokenOperation(
  doc: Json,
  tokenUrl: string,
): { operationId?: string; path: string; format?: 'form' | 'json'; fields: string[] } | undefined {
  const absolute = (server: Json | undefined, path: string) => `${serverUrl(server).replace(/\/+$/, '')}${path}`.replace(/\/+$/, '');
  const target = tokenUrl.startsWith('/') ? absolute(doc.servers?.[0], tokenUrl) : tokenUrl.replace(/\/+$/, '');
  const found = operations(doc).find(
    ({ method, path, op, pathItem }) =>
      method === 'post' &&
      !path.includes('#') &&
      (op.servers ?? pathItem.servers ?? doc.servers ?? []).some((server: Json) => absolute(server, path) === target),
  );
  if (!found) return undefined;
  const content: Json = deref(doc, found.op.requestBody)?.content ?? {};
  const type =
    Object.keys(content).find((t) => /^application\/x-www-form-urlencoded$/i.test(t)) ?? Object.keys(content).find((t) => /json$/i.test(t));
  const schema: Json = deref(doc, type ? content[type].schema : undefined) ?? {};
  const fields = [schema, ...(Array.isArray(schema.allOf) ? schema.allOf : [])].flatMap((part: Json) =>
    Object.keys(deref<Json>(doc, part)?.properties ?? {}),
  );
  return {
    ...(typeof found.op.operationId === 'string' ? { operationId: found.op.operationId } : {}),
    path: found.path,
    ...(type ? { format: /json$/i.test(type) ? ('json' as const) : ('form' as const) } : {}),
    fields,
  };
}

// ---------------------------------------------------------------------------
// The file written.

/** The marker of an imported spec: where it came from and the SHA-256 of the bytes read. */
export function importMarker({ source, bytes }: Source): Json {
  return { source, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The text of specs/<slug>/openapi.yaml: the document with `x-portico-imported`
 * and `x-portico-auth` (unless it has its own) after `info`. JSON is written as
 * JSON; YAML is the original text with the two keys inserted, so its comments
 * and layout stay as they were.
 */
export function importedText({ doc, format, text }: Parsed, marker: Json, auth: Json | undefined): string {
  const added: Json = { 'x-portico-imported': marker, ...(auth ? { 'x-portico-auth': auth } : {}) };
  if (format === 'json') {
    const out: Json = {};
    for (const [k, v] of Object.entries(doc)) {
      if (k in added) continue;
      out[k] = v;
      if (k === 'info') Object.assign(out, added);
    }
    const indent = /^\{\s*\n([ \t]+)"/.exec(text)?.[1] ?? 2;
    return `${JSON.stringify(out, null, indent)}\n`;
  }
  const yaml = parseDocument(text, { keepSourceTokens: true });
  const root = yaml.contents;
  const existing = isMap(root) ? root.items.find((p) => isScalar(p.key) && p.key.value === 'x-portico-imported') : undefined;
  const infoAt = isMap(root) ? root.items.findIndex((p) => isScalar(p.key) && p.key.value === 'info') : -1;
  const next = isMap(root) ? root.items[infoAt + 1] : undefined;
  if (isMap(root) && !root.flow && !existing && infoAt >= 0) {
    if (!next) return `${text.replace(/\n*$/, '\n')}${stringify(added)}`;
    if (isScalar(next.key) && next.key.range) {
      // Before the key after `info`, and before the comment lines that lead into it.
      const lines = text.slice(0, next.key.range[0]).split('\n');
      lines.pop();
      while (lines.length && /^\s*(#.*)?$/.test(lines.at(-1)!)) lines.pop();
      const at = lines.reduce((n, line) => n + line.length + 1, 0);
      return `${text.slice(0, at)}${stringify(added)}${text.slice(at)}`;
    }
  }
  for (const [k, v] of Object.entries(added)) yaml.set(k, yaml.createNode(v));
  // A flow mapping at the top would start with `{`, which loadSpec reads as JSON.
  if (isMap(yaml.contents)) yaml.contents.flow = false;
  return yaml.toString();
}
