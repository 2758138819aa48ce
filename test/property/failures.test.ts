// What fetch throws reaches the caller as a ConnectionError whose cause is a
// copy of the failure: of its class, with its scalar fields (code, errno,
// syscall, ...) and causes, so code can branch on them as on the original.
// Whatever the failure holds, in whatever field, depth or spelling, the
// token it was sending never shows in a message, inspect, JSON or the chain.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as finexer from '../../packages/finexer/src/index.ts';
import { anyText, bounded, canary, expectNoCanary, group, renderings } from './support.ts';

const g = group('failures');
const CLASSES = [Error, TypeError, RangeError, SyntaxError] as const;

/** How a failure can quote the token: in its message, in a field, or percent- or JSON-escaped. */
const quoting = fc.constantFrom(
  (t: string) => `Bearer ${t}`,
  (t: string) => `authorization: Bearer ${t}`,
  (t: string) => encodeURIComponent(t),
  (t: string) => JSON.stringify({ authorization: `Bearer ${t}` }),
);
const scalar = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), anyText(20));
const layer = fc.record({
  kind: fc.integer({ min: 0, max: CLASSES.length }),
  message: anyText(30),
  quote: fc.option(quoting, { nil: undefined }),
  quoteIn: fc.constantFrom('message', 'field'),
  fields: fc.dictionary(fc.constantFrom('code', 'errno', 'syscall', 'address', 'port', 'detail'), scalar, { maxKeys: 4 }),
});

/** A failure as fetch (or a custom one) might throw it: a chain of errors, the innermost first in `layers`. */
function failureOf(layers: fc.infer<typeof layer>[], token: string): unknown {
  let cause: unknown;
  for (const { kind, message, quote, quoteIn, fields } of layers) {
    const text = quote && quoteIn === 'message' ? `${message} ${quote(token)}` : message;
    const error =
      kind === CLASSES.length
        ? new DOMException(text, 'NetworkError')
        : new CLASSES[kind]!(text, cause === undefined ? undefined : { cause });
    for (const [name, value] of Object.entries(fields)) Object.defineProperty(error, name, { value, enumerable: true, configurable: true });
    if (quote && quoteIn === 'field') Object.assign(error, { header: quote(token) });
    cause = error;
  }
  return cause;
}

describe('what fetch throws', () => {
  it('is a ConnectionError whose cause chain keeps each class and scalar field, and never shows the token', async () => {
    const count = g.counter('fetch failures');
    await fc.assert(
      fc.asyncProperty(fc.array(layer, { minLength: 1, maxLength: 4 }), async (layers) => {
        count();
        const token = canary('tok');
        const failure = failureOf(layers, token);
        const client = finexer.createClient({
          baseUrl: 'https://api.example.test',
          auth: { accessToken: token },
          maxRetries: 0,
          fetch: async () => {
            throw failure;
          },
        });
        const error = await bounded(
          client.GET('/customers/{id}', { params: { path: { id: 'cus_1' } } }).then(
            () => undefined,
            (e: unknown) => e,
          ),
          'a call',
        );
        expect(error).toBeInstanceOf(finexer.ConnectionError);
        expectNoCanary(renderings(error), [token], 'the connection error');
        // Down the chain, each copy is of its original's class, with its scalar fields (strings redacted).
        let copy = (error as Error).cause;
        for (let original = failure; original instanceof Error || original instanceof DOMException; original = (original as Error).cause) {
          expect(Object.getPrototypeOf(copy)).toBe(Object.getPrototypeOf(original));
          for (const [name, value] of Object.entries(original))
            if (typeof value !== 'string' && (value === null || typeof value !== 'object'))
              expect((copy as Record<string, unknown>)[name]).toBe(value);
          copy = (copy as Error).cause;
        }
      }),
      g.params(200),
    );
  });
});
