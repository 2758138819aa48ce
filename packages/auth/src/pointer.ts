// RFC 6901 JSON Pointer, the one reader for every pointer a spec holds
// (token response fields, envelopes, pagination cursors, $refs in tools).

/** The reference tokens of `pointer`, unescaped (`~1` is `/`, then `~0` is `~`, in that order: RFC 6901 §4). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value `pointer` reaches in `document`; undefined when any step is missing. Only own properties count. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  let current = document;
  for (const key of pointerTokens(pointer)) {
    if (Array.isArray(current)) {
      current = /^(0|[1-9]\d*)$/.test(key) ? current[Number(key)] : undefined;
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}
