// Plain JavaScript so that the lint plugin (tools/redocly) and the generator
// (tools/lib/auth.ts) check a grant-less x-portico-auth by the same rules.

/**
 * The rules a credential with no grant is applied by, from the security
 * scheme the profile names; or a message saying why there are none.
 * @param {Record<string, any>} doc
 * @returns {Record<string, any> | string}
 */
export function credentialRules(doc) {
  const profile = doc['x-portico-auth'];
  const scheme = doc.components?.securitySchemes?.[profile?.securityScheme];
  if (!scheme) return `x-portico-auth.securityScheme names \`${profile?.securityScheme}\`, which is not in components.securitySchemes.`;
  if (scheme.type === 'apiKey') {
    if (!['header', 'query', 'cookie'].includes(scheme.in) || typeof scheme.name !== 'string' || scheme.name === '') {
      return `security scheme \`${profile.securityScheme}\` (apiKey) needs \`in\` (header, query or cookie) and a \`name\`.`;
    }
    if (profile.apply) return 'x-portico-auth.apply does not go with an apiKey scheme: its `in` and `name` say where the key goes.';
    return { type: 'apiKey', in: scheme.in, name: scheme.name };
  }
  const http = scheme.type === 'http' ? String(scheme.scheme).toLowerCase() : undefined;
  if (http === 'basic') {
    if (profile.apply) return 'x-portico-auth.apply does not go with an http basic scheme.';
    return { type: 'basic' };
  }
  if (http === 'bearer')
    return { type: 'bearer', header: profile.apply?.header ?? 'Authorization', scheme: profile.apply?.scheme ?? 'Bearer' };
  return `x-portico-auth without grants needs an apiKey, http basic or http bearer scheme; \`${profile.securityScheme}\` is ${scheme.type}${http ? ` ${http}` : ''} (add grants for OAuth).`;
}
