// `@portico/mock/msw`: a mock as MSW request handlers, for tests that
// intercept fetch instead of pointing a client's baseUrl at a server. The
// handlers answer at the provider's real URLs (the spec's servers and auth
// URLs), so a client created without baseUrl reaches the mock.
import { http } from 'msw';
import { MockError } from './errors.js';
import { internals, type Mock } from './mock.js';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One handler per host of the provider; a request to a path the provider does not serve falls through to your other handlers. */
export function mswHandlers(mock: Pick<Mock, 'handle'>): ReturnType<typeof http.all>[] {
  const inner = internals.get(mock);
  if (!inner) throw new MockError('invalid_option', 'mswHandlers takes a mock from createMock()');
  return inner.provider
    .origins()
    .map((origin) =>
      http.all(new RegExp(`^${escapeRegExp(origin)}/`), async ({ request }) => inner.dispatch(request, new URL(request.url).pathname)),
    );
}
