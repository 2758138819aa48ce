// Each provider's tests run twice: against startMock (the client pointed at
// 127.0.0.1 by the mock's options) and against MSW (the client created with
// no baseUrl, its requests to the provider's real hosts intercepted).
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createMock, type Mock, type MockOptions, type ProviderSlug, type RunningMock, startMock } from '../src/index.js';
import { mswHandlers, releaseMockedBodies } from '../src/msw.js';

export type Mode = 'startMock' | 'msw';
export const MODES: readonly Mode[] = ['startMock', 'msw'];

export interface Target<Slug extends ProviderSlug> {
  readonly mock: Mock<Slug> | RunningMock<Slug>;
  /** createClient's options: the mock's base URL, or nothing (the real hosts, intercepted). */
  readonly clientOptions: { baseUrl?: string };
  /** The auth functions' options: the mock's endpoints, or nothing where the real ones are intercepted. */
  readonly authOptions: Partial<Mock<Slug>['authOptions']>;
}

/** A mock of `slug` in `mode` for the tests of one describe block, reset after each test. */
export function useMock<Slug extends ProviderSlug>(slug: Slug, mode: Mode, options: MockOptions = {}): Target<Slug> {
  const target = {} as { mock: Mock<Slug> | RunningMock<Slug>; clientOptions: { baseUrl?: string }; authOptions: object };
  let server: ReturnType<typeof setupServer> | undefined;
  let running: RunningMock<Slug> | undefined;
  beforeAll(async () => {
    if (mode === 'startMock') {
      running = await startMock(slug, options);
      Object.assign(target, { mock: running, clientOptions: running.clientOptions, authOptions: running.authOptions });
    } else {
      const mock = createMock(slug, options);
      server = setupServer(...mswHandlers(mock));
      releaseMockedBodies(server);
      server.listen({ onUnhandledRequest: 'error' });
      Object.assign(target, { mock, clientOptions: {}, authOptions: {} });
    }
  });
  afterEach(() => target.mock.controller.reset());
  afterAll(async () => {
    server?.close();
    await running?.close();
  });
  return target as Target<Slug>;
}

/** The consent page's redirect, as a browser following the authorize URL with redirect: 'manual' would see it. */
export async function browse(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null)
    throw new Error(`the authorize endpoint answered ${response.status}: ${await response.text()}`);
  return location;
}
