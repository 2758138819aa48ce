// `portico mock`: a provider's fake (@portico/mock) on the loopback
// interface, for local development and for apps not written in JavaScript.
// It serves until SIGINT or SIGTERM, then closes every connection and
// returns, so the process exits 0.
import { MockError, type RunningMock, startMock } from '@portico/mock';
import { type CatalogProvider, findProvider } from './catalog.js';
import { CliError } from './errors.js';

/** `--port` as typed: digits only, 0 (the default) for any free port. */
function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port <= 65_535)) throw new CliError('invalid_port', `--port must be 0-65535 (0: any free port), got "${text}"`);
  return port;
}

/** A port startMock could not listen on, as the CLI's one line; any other error as it is. */
function cliError(error: unknown, port: number): unknown {
  if (!(error instanceof MockError)) return error;
  if (error.code === 'port_in_use')
    return new CliError('port_in_use', `port ${port} on 127.0.0.1 is in use; pass --port with a free one, or leave it out for any`, {
      cause: error,
    });
  if ((error.cause as NodeJS.ErrnoException | undefined)?.code === 'EACCES')
    return new CliError('port_not_allowed', `port ${port} on 127.0.0.1 needs privileges; pass --port 1024 or above, or leave it out`, {
      cause: error,
    });
  return error;
}

const object = (value: object) =>
  `{ ${Object.entries(value)
    .map(([key, v]) => `${key}: ${JSON.stringify(v)}`)
    .join(', ')} }`;

/** Where the provider package takes the mock's addresses: createClient's options, and the auth options where its grant reads them. */
function usage(provider: CatalogProvider, running: RunningMock): [string, string][] {
  const { grants } = provider.auth;
  const auth = grants.includes('authorization_code')
    ? 'oauth() options'
    : grants.includes('client_credentials')
      ? "createClient's auth"
      : grants.includes('access_code_exchange')
        ? 'exchangeToken() options'
        : undefined;
  return [
    ['createClient options', object(running.clientOptions)],
    ...(auth ? [[auth, object(running.authOptions)] as [string, string]] : []),
  ];
}

/** Aligned `name  value` lines. */
const rows = (values: Record<string, string> | [string, string][]) => {
  const entries = Array.isArray(values) ? values : Object.entries(values);
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  return entries.map(([name, value]) => `  ${name.padEnd(width)}${value}`);
};

/** Resolves with the first SIGINT or SIGTERM; while it waits, neither ends the process. */
function nextSignal(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let dispose = () => {};
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    const on = (name: NodeJS.Signals) => resolve(name);
    process.on('SIGINT', on).on('SIGTERM', on);
    dispose = () => void process.off('SIGINT', on).off('SIGTERM', on);
  });
  return { signal, dispose: () => dispose() };
}

export async function mock(slug: string, portText: string | undefined, print: (text: string) => void): Promise<void> {
  const provider = findProvider(slug);
  const port = parsePort(portText);
  // Caught from before the server starts: a signal while it starts still ends it cleanly.
  const stop = nextSignal();
  try {
    const running = await startMock(provider.slug, { port }).catch((error: unknown) => {
      throw cliError(error, port);
    });
    try {
      // What a provider's front end (Dapi Connect) hands the app when a user links: one linked user, ready to exchange.
      const link = provider.auth.grants.includes('access_code_exchange') ? running.controller.connect() : undefined;
      print(
        [
          `portico mock: a fake ${provider.title} on ${running.url}`,
          'Listening on 127.0.0.1 only. Fake data; nothing is sent to the provider.',
          '',
          "The mock's own credentials (test values it alone accepts):",
          ...rows(running.client),
          ...(link ? ['', "A linked user, as the provider's front end hands one to your app:", ...rows(link)] : []),
          '',
          `Point @portico/${provider.slug} at it:`,
          ...rows(usage(provider, running)),
          '',
          'Serving until Ctrl-C (SIGINT) or SIGTERM.',
        ].join('\n'),
      );
      const signal = await stop.signal;
      print(`portico mock: ${signal}, stopping after ${running.controller.requests.length} requests`);
    } finally {
      await running.close();
    }
  } finally {
    stop.dispose();
  }
}
