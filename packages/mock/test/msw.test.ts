// The MSW handlers claim the provider's operations, not its whole host: a
// path the provider does not serve reaches the user's own handlers with its
// body unread, and else MSW's onUnhandledRequest, never the network.
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterEach, describe, expect, it } from 'vitest';
import { createMock } from '../src/index.js';
import { mswHandlers, releaseMockedBodies } from '../src/msw.js';

let server: ReturnType<typeof setupServer> | undefined;
afterEach(() => server?.close());

describe('mswHandlers', () => {
  it("leaves another path on the provider's host to the next handler, its body unread", async () => {
    const mock = createMock('dapi');
    let seen: string | undefined;
    server = setupServer(
      ...mswHandlers(mock),
      http.post('https://api.dapi.com/v2/custom/thing', async ({ request }) => {
        seen = await request.text();
        return HttpResponse.json({ mine: true });
      }),
    );
    releaseMockedBodies(server);
    server.listen({ onUnhandledRequest: 'error' });
    const response = await fetch('https://api.dapi.com/v2/custom/thing', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"note":"for my own handler"}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ mine: true });
    expect(seen).toBe('{"note":"for my own handler"}');
    // Not the mock's request: not in its log either.
    expect(mock.controller.requests).toEqual([]);
  });

  it.each(['fdx', 'finexer', 'dapi'] as const)(
    "%s: a path it does not serve is MSW's unhandled request, with no answer from the mock and no request to the network",
    async (slug) => {
      const mock = createMock(slug);
      const unhandled: string[] = [];
      server = setupServer(...mswHandlers(mock));
      releaseMockedBodies(server);
      server.listen({
        onUnhandledRequest(request, print) {
          unhandled.push(request.url);
          // MSW's 'error' strategy: the request fails here instead of going on to the real host.
          print.error();
        },
      });
      const [typo, served] = {
        fdx: ['https://api.fi.com/fdx/v4/acounts', new Request('https://api.fi.com/fdx/v4/accounts')],
        finexer: ['https://api.finexer.com/v1/customers', new Request('https://api.finexer.com/customers')],
        dapi: ['https://api.dapi.com/v2/data/acounts/get', new Request('https://api.dapi.com/v2/data/accounts/get', { method: 'POST' })],
      }[slug];
      // A typo of a real path, with the app's credential on it.
      await expect(fetch(typo, { headers: { authorization: 'Bearer app-token-0123456789' } })).rejects.toThrow();
      expect(unhandled).toEqual([typo]);
      // The paths it serves are still the mock's: no token, its 401.
      expect((await fetch(served)).status).toBe(401);
      expect(unhandled).toHaveLength(1);
    },
  );
});
