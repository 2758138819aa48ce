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

/** Reads and writes XML bodies by their shapes: `xml` from `@portico/runtime/xml`, given only to clients whose spec declares XML. */
export interface XmlCodec {
  /** The value a document holds, as the shape describes it; throws on a malformed document. */
  decode(text: string, shape: Shape): unknown;
  /** A whole document (with its XML declaration) for `value`. */
  encode(value: unknown, shape: Shape): string;
  /** The media type of the request body when the representation parameter's value in `path` picks XML; undefined otherwise. */
  requestType(representation: Representation, path: Readonly<Record<string, unknown>> | undefined): string | undefined;
}

/** A path parameter that selects the representation (`x-portico-representation`): value -> media type, and the request body schema for XML. */
export interface Representation {
  readonly param: string;
  readonly types: Readonly<Record<string, string>>;
  readonly body?: Shape;
}

/** Adds the problems of the value at `path` (the keys from the body down) to `out`. */
type Check = (value: unknown, path: (string | number)[], out: string[]) => void;

const MAX_PROBLEMS = 20;
const where = (path: readonly (string | number)[]) => (path.length ? `/${path.join('/')}` : '');
const compiled = new WeakMap<Shape, Check | undefined>();

/**
 * A shape's checks as one function, built once per shape (the generated
 * constants live as long as the client): the per-call walk visits only the
 * properties that can fail, and builds a path string only for a problem.
 */
function compile(shape: Shape): Check | undefined {
  if (compiled.has(shape)) return compiled.get(shape);
  let check: Check | undefined;
  if (shape.type === 'object') {
    const required = shape.required ?? [];
    const children = Object.entries(shape.properties ?? {}).flatMap(([key, sub]) => {
      const child = compile(sub);
      return child ? [{ key, child }] : [];
    });
    check = (value, path, out) => {
      if (out.length >= MAX_PROBLEMS || value === undefined || value === null) return;
      if (typeof value !== 'object' || Array.isArray(value)) {
        out.push(`${where(path) || 'body'} is not an object`);
        return;
      }
      const record = value as Record<string, unknown>;
      for (const key of required) if (record[key] === undefined) out.push(`${where(path)}/${key} is missing`);
      for (const { key, child } of children) {
        path.push(key);
        child(record[key], path, out);
        path.pop();
      }
    };
  } else if (shape.type === 'array') {
    const item = shape.items && compile(shape.items);
    check = (value, path, out) => {
      if (out.length >= MAX_PROBLEMS || value === undefined || value === null) return;
      if (!Array.isArray(value)) {
        out.push(`${where(path) || 'body'} is not an array`);
        return;
      }
      if (!item) return;
      for (let index = 0; index < value.length; index++) {
        path.push(index);
        item(value[index], path, out);
        path.pop();
      }
    };
  }
  compiled.set(shape, check);
  return check;
}

/**
 * Paths of required fields missing from `value`, and of objects or arrays
 * that are not. Scalars are not type-checked: a provider that sends "42" for
 * a number should not break a caller who never reads it.
 */
export function shapeProblems(value: unknown, shape: Shape): string[] {
  const out: string[] = [];
  compile(shape)?.(value, [], out);
  return out;
}
