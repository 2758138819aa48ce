// `@portico/mock/msw`: a mock as MSW request handlers, for tests that
// intercept fetch instead of pointing a client's baseUrl at a server. The
// handlers answer at the provider's real URLs (the spec's servers and auth
// URLs), so a client created without baseUrl reaches the mock.
import { http } from 'msw';
import { MockError } from './errors.js';
import { internals, type Mock } from './mock.js';

/**
 * One handler per host of the provider, matching the paths of its
 * operations only: a request to any other path (a typo, an endpoint of your
 * own on the same host) falls through to your other handlers, then to
 * `onUnhandledRequest`, never silently to the network.
 */
export function mswHandlers(mock: Pick<Mock, 'handle'>): ReturnType<typeof http.all>[] {
  const inner = internals.get(mock);
  if (!inner) throw new MockError('invalid_option', 'mswHandlers takes a mock from createMock()');
  return inner.provider
    .served()
    .map(({ pattern }) => http.all(pattern, async ({ request }) => inner.dispatch(request, new URL(request.url).pathname)));
}

/** The part of msw's `setupServer()` (or `setupWorker()`) that `releaseMockedBodies` uses. */
interface ServerEvents {
  events: { on(event: 'response:mocked', listener: (args: { response: Response }) => void): void };
}

/**
 * Works around msw 2 on Node (its @mswjs/interceptors 0.41, mswjs/interceptors
 * issues 712 and 799): `response.body.cancel()` on a mocked response never
 * settles while the copy msw makes for its `response:mocked` event is unread.
 * A client that cancels a body it will not read (Portico's runtime does, on a
 * 401 before it refreshes and replays, and on a retried 429 or 5xx) then
 * hangs. This cancels that copy, so the client's cancel settles; a
 * `response:mocked` listener of yours can no longer read the body. msw 3
 * (Node >= 22.12) does not need it. Call it once per server.
 */
export function releaseMockedBodies(server: ServerEvents): void {
  server.events.on('response:mocked', ({ response }) => {
    response.body?.cancel().catch(() => undefined);
  });
}
