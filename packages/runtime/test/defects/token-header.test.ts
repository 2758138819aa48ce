// Defect 3: a token a header cannot carry never reaches an error message, a
// log line, inspect or JSON; the runtime redacts what it sent from transport
// errors, whatever Authenticator is plugged in.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as finexer from '../../../finexer/src/index.ts';
import { canary, expectNoSecretsIn, MemoryLogger, rejectionOf, renderings, startServer, type TestServer } from '../helpers.ts';

describe('a token with a newline', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    server.on('GET /customers', () => ({ status: 200, body: { data: [] } }));
  });
  afterAll(() => server.close());

  it('is refused when given as a static token, with a typed error that does not contain it', () => {
    const token = `${canary('tok')}\nx-injected: 1`;
    let error: unknown;
    try {
      finexer.createClient({ baseUrl: server.url, auth: { accessToken: token } });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'configuration_error' });
    expectNoSecretsIn(renderings(error), [token, token.split('\n')[0]!], 'the configuration error');
  });

  it('from a custom Authenticator: the connection error and the log do not contain it', async () => {
    const token = `${canary('tok')}\nx-injected: 1`;
    const logger = new MemoryLogger();
    const client = finexer.createClient({
      baseUrl: server.url,
      auth: { getAuthorization: async () => ({ name: 'authorization', value: `Bearer ${token}` }), handleUnauthorized: async () => false },
      logger,
      logLevel: 'debug',
      maxRetries: 0,
    });
    const error = await rejectionOf(client.GET('/customers', {}));
    expect(error).toMatchObject({ code: 'connection_error' });
    expectNoSecretsIn([...renderings(error), inspect(error), ...logger.texts()], [token.split('\n')[0]!], 'the connection error');
  });
});
