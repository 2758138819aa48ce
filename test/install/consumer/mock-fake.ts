// A project's own test helper, written as a user of @portico/mock writes it:
// each suite runs twice, against startMock (a server on 127.0.0.1, the client
// pointed at it) and against MSW (the client left at the provider's real
// URLs, its fetch intercepted). The install test copies it, with the suites,
// into fresh projects that install the packages from a registry.
import { createMock, type Mock, type MockOptions, type ProviderSlug, type RunningMock, startMock } from '@portico/mock';
import { mswHandlers, releaseMockedBodies } from '@portico/mock/msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';

export const WAYS = ['startMock', 'msw'] as const;

export interface Fake<Slug extends ProviderSlug> {
  mock: Mock<Slug> | RunningMock<Slug>;
  /** createClient's options: the mock's URL, or none (MSW answers at the provider's own). */
  clientOptions: { baseUrl?: string };
  /** oauth()'s, exchangeToken()'s or the token URL: the mock's, or none. */
  authOptions: Partial<Mock<Slug>['authOptions']>;
}

/** The fake for the tests of one describe block, reset after each test. */
export function useFake<Slug extends ProviderSlug>(
  slug: Slug,
  way: (typeof WAYS)[number],
  options: Omit<MockOptions, 'baseUrl'> = {},
): Fake<Slug> {
  const fake = {} as Fake<Slug>;
  let close = async () => {};
  beforeAll(async () => {
    if (way === 'startMock') {
      const running = await startMock(slug, options);
      Object.assign(fake, { mock: running, clientOptions: running.clientOptions, authOptions: running.authOptions });
      close = () => running.close();
    } else {
      const mock = createMock(slug, options);
      const server = setupServer(...mswHandlers(mock));
      // msw 2 on Node: without it, a response body the client cancels (a retried 429, a 401 before a refresh) never settles.
      releaseMockedBodies(server);
      server.listen({ onUnhandledRequest: 'error' });
      Object.assign(fake, { mock, clientOptions: {}, authOptions: {} });
      close = async () => server.close();
    }
  });
  afterEach(() => fake.mock.controller.reset());
  afterAll(() => close());
  return fake;
}

/** The user's browser at the consent page, which approves at once: where it is sent back to. */
export async function consent(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`the consent page answered ${response.status} without a redirect`);
  return location;
}
