// What a mock keeps, and the work it does per request, stay bounded however
// long it runs (`portico mock` never resets): the secrets its log redacts,
// the log itself, and every wait.
import { redactSecrets } from '@portico/auth/internal';
import { describe, expect, it, vi } from 'vitest';
import { createMock, startMock } from '../src/index.js';

// The real redaction, watched: how many secrets each logged request is searched for.
vi.mock('@portico/auth/internal', async (original) => {
  const real = await original<typeof import('@portico/auth/internal')>();
  return { ...real, redactSecrets: vi.fn(real.redactSecrets) };
});
const searched = () => Math.max(...vi.mocked(redactSecrets).mock.calls.map(([, secrets]) => secrets.length));

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the secrets the log redacts', () => {
  it("are the client's few, however many tokens were issued and resets done; an issued one is still cut", async () => {
    const mock = createMock('expertfile');
    const { clientId, clientSecret } = mock.client;
    const signIn = () =>
      mock.handle(
        new Request('http://127.0.0.1/v2/oauth/token', {
          method: 'POST',
          headers: FORM,
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId!, client_secret: clientSecret! }),
        }),
      );
    await signIn();
    vi.mocked(redactSecrets).mockClear();
    await signIn();
    const fresh = searched();
    let token = '';
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) token = ((await (await signIn()).json()) as { data: { accessToken: string } }).data.accessToken;
      mock.controller.reset();
    }
    vi.mocked(redactSecrets).mockClear();
    // A token issued before the reset, in a header the log keeps and in a query: cut by its shape.
    await mock.handle(new Request(`http://127.0.0.1/v2/organization/1/expert?echo=${token}`, { headers: { 'x-debug': token } }));
    expect(searched()).toBe(fresh);
    expect(fresh).toBeLessThanOrEqual(2);
    expect(JSON.stringify(mock.controller.requests)).not.toContain(token);
  });
});

describe('the request log', () => {
  it('keeps the last 1000 requests, the first 64 KiB of a body, and no body of a request no operation took', async () => {
    const mock = createMock('finexer');
    for (let i = 0; i < 1001; i++) await mock.handle(new Request(`http://127.0.0.1/customers?n=${i}`));
    const kept = mock.controller.requests;
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.url).toMatch(/\?n=1$/);
    expect(kept.at(-1)!.url).toMatch(/\?n=1000$/);

    const big = 'x'.repeat(1024 * 1024);
    await mock.handle(new Request('http://127.0.0.1/customers', { method: 'POST', headers: FORM, body: `name=${big}` }));
    const logged = mock.controller.requests.at(-1)!.body!;
    expect(logged.length).toBeLessThan(64 * 1024 + 100);
    expect(logged).toMatch(/^name=x+\.\.\. \[\d+ more characters not logged\]$/);

    await mock.handle(
      new Request('http://127.0.0.1/nothing-here', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: big }),
    );
    expect(mock.controller.requests.at(-1)).toMatchObject({ method: 'POST', url: 'http://127.0.0.1/nothing-here' });
    expect(mock.controller.requests.at(-1)!.body).toBeUndefined();
  });
});

describe('every wait and size', () => {
  /** A request whose body sends its first bytes and never ends. */
  const endless = (signal?: AbortSignal) =>
    new Request('http://127.0.0.1/v2/oauth/token', {
      method: 'POST',
      headers: FORM,
      body: new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('grant_type=')) }),
      duplex: 'half',
      ...(signal ? { signal } : {}),
    } as RequestInit);

  it('a request body that never ends is released by reset(), close() and its own signal', async () => {
    const mock = createMock('expertfile');
    const pending = mock.handle(endless());
    mock.controller.reset();
    await expect(pending).rejects.toMatchObject({ name: 'MockError', code: 'closed' });
    const aborted = new AbortController();
    const own = mock.handle(endless(aborted.signal));
    aborted.abort();
    await expect(own).rejects.toMatchObject({ code: 'closed' });
    const last = mock.handle(endless());
    mock.close();
    await expect(last).rejects.toMatchObject({ code: 'closed' });
    // Bounded: before the fix each of these waited for good.
  }, 10_000);

  it('a body past 16 MiB is 413, without reading on', async () => {
    const mock = createMock('expertfile');
    const big = new Uint8Array(17 * 1024 * 1024).fill(0x61);
    const response = await mock.handle(new Request('http://127.0.0.1/v2/oauth/token', { method: 'POST', headers: FORM, body: big }));
    expect(response.status).toBe(413);
  });

  it('a delay a timer cannot hold is refused; the longest it can is taken', () => {
    const mock = createMock('expertfile');
    for (const delayMs of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect(() => mock.controller.fail('*', { kind: 'slow', delayMs })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
      expect(() => mock.controller.respond('listExperts', { delayMs })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
    }
    mock.controller.fail('*', { kind: 'slow', delayMs: 2 ** 31 - 1 });
    mock.controller.respond('listExperts', { delayMs: 2 ** 31 - 1 });
  });

  it('an oversized answer of 512 MiB is streamed, from the handler and from the server', async () => {
    const mock = createMock('expertfile');
    mock.controller.fail('*', { kind: 'oversized', bytes: 512 * 1024 * 1024 });
    const response = await mock.handle(new Request('http://127.0.0.1/v2/organization/1/expert'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(512 * 1024 * 1024));
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('{"padding":"');
    await reader.cancel();

    await using running = await startMock('expertfile');
    running.controller.fail('*', { kind: 'oversized', bytes: 512 * 1024 * 1024 });
    const served = await fetch(`${running.url}/v2/organization/1/expert`);
    expect(served.headers.get('content-length')).toBe(String(512 * 1024 * 1024));
    let read = 0;
    for await (const chunk of served.body!) {
      read += chunk.byteLength;
      if (read > 1024 * 1024) break;
    }
    expect(read).toBeGreaterThan(1024 * 1024);
    // A small one is whole and parses.
    running.controller.fail('*', { kind: 'oversized', bytes: 100_000 });
    const small = await (await fetch(`${running.url}/v2/organization/1/expert`)).text();
    expect(small).toHaveLength(100_000);
    expect(JSON.parse(small).padding).toMatch(/^x+$/);
  });
});
