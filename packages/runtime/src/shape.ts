// The compact schema the generator emits for each response (and XML request):
// only what the runtime needs to decode XML and to check required fields.

export interface Shape {
  /** 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' */
  readonly type: string;
  /** XML element (or attribute) name when it differs from the property name. */
  readonly xmlName?: string;
  /** XML attribute of the parent element. */
  readonly xmlAttribute?: true;
  /** XML array wrapped in an element of its own. */
  readonly xmlWrapped?: true;
  readonly properties?: Readonly<Record<string, Shape>>;
  readonly items?: Shape;
  readonly required?: readonly string[];
}

/**
 * Paths of required fields missing from `value`, and of objects or arrays
 * that are not. Scalars are not type-checked: a provider that sends "42" for
 * a number should not break a caller who never reads it.
 */
export function shapeProblems(value: unknown, shape: Shape, at = '', out: string[] = []): string[] {
  if (out.length >= 20 || value === undefined || value === null) return out;
  switch (shape.type) {
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) {
        out.push(`${at || 'body'} is not an object`);
        break;
      }
      for (const key of shape.required ?? []) if ((value as Record<string, unknown>)[key] === undefined) out.push(`${at}/${key} is missing`);
      for (const [key, sub] of Object.entries(shape.properties ?? {})) shapeProblems((value as Record<string, unknown>)[key], sub, `${at}/${key}`, out);
      break;
    case 'array':
      if (!Array.isArray(value)) out.push(`${at || 'body'} is not an array`);
      else if (shape.items) value.forEach((item, index) => shapeProblems(item, shape.items!, `${at}/${index}`, out));
      break;
  }
  return out;
}
