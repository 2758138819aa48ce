// Plain JavaScript so that the lint plugin (tools/redocly) and the generator
// (tools/lib/auth.ts) check the credentials a user holds by the same rules.

// OAuth's own createClient inputs: a held credential taking these fields would be read as a grant or a token.
const OAUTH_FIELDS = ['accessToken', 'clientId', 'clientSecret'];
// Reserved headers a key may still travel in.
const KEY_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
// A constant header may not stand in for a credential, nor a header fetch or the runtime owns.
const RESERVED_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
];

/**
 * The rules one scheme of a held credential is sent by, or a message saying why there are none.
 * @param {Record<string, any>} doc
 * @param {string} name the security scheme
 * @param {{ input?: string, prefix?: string }} held how the profile passes and sends it
 * @param {{ header: string, scheme: string } | undefined} apply the short form's `apply`
 * @returns {Record<string, any> | string}
 */
function schemeRules(doc, name, held, apply) {
  const scheme = doc.components?.securitySchemes?.[name];
  if (!scheme) return `x-portico-auth names the security scheme \`${name}\`, which is not in components.securitySchemes.`;
  const input = held.input === undefined ? {} : { input: held.input };
  if (scheme.type === 'apiKey') {
    if (!['header', 'query', 'cookie'].includes(scheme.in) || typeof scheme.name !== 'string' || scheme.name === '') {
      return `security scheme \`${name}\` (apiKey) needs \`in\` (header, query or cookie) and a \`name\`.`;
    }
    if (apply)
      return 'x-portico-auth.apply does not go with an apiKey scheme: its `in` and `name` say where the key goes (a prefix such as `Bot` goes under `credentials`: `- <scheme>: { prefix: Bot }`).';
    if (held.prefix !== undefined && scheme.in !== 'header')
      return `security scheme \`${name}\` sends its key in the ${scheme.in}: a prefix goes only before a header's value.`;
    // fetch owns these (Host is dropped, Content-Length hangs a call); Authorization and Cookie are where keys belong.
    if (scheme.in === 'header' && RESERVED_HEADERS.includes(scheme.name.toLowerCase()) && !KEY_HEADERS.includes(scheme.name.toLowerCase()))
      return `security scheme \`${name}\` sends its key in the \`${scheme.name}\` header, which fetch sets itself: a key cannot go there.`;
    return { type: 'apiKey', in: scheme.in, name: scheme.name, ...(held.prefix === undefined ? {} : { prefix: held.prefix }), ...input };
  }
  const http = scheme.type === 'http' ? String(scheme.scheme).toLowerCase() : undefined;
  if (http === 'basic') {
    if (apply) return 'x-portico-auth.apply does not go with an http basic scheme.';
    if (held.input !== undefined || held.prefix !== undefined)
      return `security scheme \`${name}\` (http basic) always takes \`username\` and \`password\`: no input or prefix.`;
    return { type: 'basic' };
  }
  if (http === 'bearer')
    return { type: 'bearer', header: apply?.header ?? 'Authorization', scheme: held.prefix ?? apply?.scheme ?? 'Bearer', ...input };
  return `a credential the user holds needs an apiKey, http basic or http bearer scheme; \`${name}\` is ${scheme.type}${http ? ` ${http}` : ''} (add grants for OAuth).`;
}

/** The `auth` fields a scheme's rules take. */
export function fieldsOf(rules) {
  if (rules.type === 'basic') return ['username', 'password'];
  return [rules.input ?? (rules.type === 'apiKey' ? 'apiKey' : 'accessToken')];
}

/**
 * The credentials a user may hold, as alternatives (security scheme name ->
 * rules), from `x-portico-auth.credentials`, or from the short form (no
 * grants: `securityScheme`, and `apply` for a bearer scheme); or a message
 * saying why the profile's credentials cannot be sent.
 * @param {Record<string, any>} doc
 * @returns {Record<string, Record<string, any>>[] | string}
 */
export function heldCredentials(doc) {
  const profile = doc['x-portico-auth'] ?? {};
  const oauth = profile.grants !== undefined;
  const written = profile.credentials ?? (oauth ? [] : [{ [profile.securityScheme]: {} }]);
  const alternatives = [];
  const seen = new Set();
  for (const alternative of written) {
    const rules = {};
    for (const [name, held] of Object.entries(alternative ?? {})) {
      if (oauth && name === profile.securityScheme)
        return `x-portico-auth.credentials names \`${name}\`, the OAuth scheme the grants are for.`;
      const r = schemeRules(doc, name, held ?? {}, profile.credentials ? undefined : profile.apply);
      if (typeof r === 'string') return r;
      rules[name] = r;
    }
    const fields = Object.values(rules).flatMap(fieldsOf);
    if (new Set(fields).size < fields.length)
      return `x-portico-auth.credentials: one alternative takes the field \`${fields.find((f, i) => fields.indexOf(f) !== i)}\` twice; give its schemes an \`input\` each.`;
    const reserved = oauth ? fields.find((f) => OAUTH_FIELDS.includes(f)) : undefined;
    if (reserved)
      return `x-portico-auth.credentials: \`${reserved}\` is an OAuth input of createClient; give the scheme another \`input\`.`;
    const key = [...fields].sort().join(',');
    if (seen.has(key))
      return `x-portico-auth.credentials: two alternatives take the same fields (${key}); give one's schemes an \`input\`.`;
    seen.add(key);
    alternatives.push(rules);
  }
  for (const name of Object.keys(profile.headers ?? {})) {
    const credentialHeaders = alternatives.flatMap((a) => Object.values(a)).filter((r) => r.type !== 'apiKey' || r.in === 'header');
    const taken = [
      ...RESERVED_HEADERS,
      ...credentialHeaders.map((r) => (r.type === 'basic' ? 'authorization' : (r.name ?? r.header).toLowerCase())),
    ];
    if (taken.includes(name.toLowerCase()))
      return `x-portico-auth.headers: \`${name}\` carries a credential; a constant header cannot be one.`;
  }
  return alternatives;
}

/** Every security scheme the profile sends: the OAuth one and the held ones. */
export function profileSchemes(doc) {
  const profile = doc['x-portico-auth'] ?? {};
  const held = heldCredentials(doc);
  return new Set([...(profile.grants ? [profile.securityScheme] : []), ...(typeof held === 'string' ? [] : held.flatMap(Object.keys))]);
}
