// The `portico` command line. Arguments are parsed by cac (used by Vite and
// Vitest): subcommands, per-command --help, repeatable options and unknown-
// option errors, with no dependencies and typings included.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { cac } from 'cac';
import { PorticoError } from '@portico/auth';
import { call } from './call.js';
import { providers } from './catalog.js';
import { login } from './login.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const list = (value: unknown): string[] => (value === undefined ? [] : [value].flat().map(String));

function describeProviders(): string {
  return providers()
    .map((p) =>
      [
        `${p.slug}  ${p.title}`,
        `  auth: ${p.auth.grants.join(', ')}${p.auth.pkce ? ' (PKCE)' : ''}. ${p.auth.description}`,
        ...(p.auth.scopes.length ? [`  scopes: ${p.auth.scopes.join(' ')}`] : []),
        ...p.operations.map((o) => `  ${o.method.padEnd(6)} ${o.path}  ${o.summary}`),
      ].join('\n'),
    )
    .join('\n\n');
}

/** One line per failure; API errors add the redacted body. Exit code 1 for failures, 2 for a malformed command line. */
function report(error: unknown, io: Io): number {
  if (error instanceof Error && error.name === 'CACError') {
    io.err(`portico: ${error.message}; see portico --help`);
    return 2;
  }
  if (error instanceof PorticoError) {
    io.err(`portico: ${error.name} [${error.code}]: ${error.message}`);
    const view = JSON.parse(JSON.stringify(error)) as { body?: unknown };
    if (view.body !== undefined) io.err(JSON.stringify(view.body, null, 2));
    return error.name === 'CliError' && /^(unknown|invalid|missing|unexpected|unsupported)_/.test(error.code) ? 2 : 1;
  }
  io.err(`portico: ${error instanceof Error ? error.message : inspect(error)}`);
  return 1;
}

export async function main(argv: string[], io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) }): Promise<number> {
  const cli = cac('portico');
  let run: (() => Promise<void>) | undefined;

  cli
    .command('login <provider>', 'Authorize in the browser and save tokens (authorization-code providers)')
    .option('--client-id <id>', 'OAuth client id (the secret comes from <PROVIDER>_CLIENT_SECRET or a prompt)', { type: [String] })
    .option('--scope <scope>', 'Scope to request; repeat for several (default: the provider default)', { type: [String] })
    .option('--port <port>', 'Loopback port of the redirect URI http://127.0.0.1:<port>/callback', { default: 8976 })
    .option('--out <file>', 'Where to write the tokens (mode 0600)', { default: undefined })
    .option('--auth-url <url>', 'Authorization server base URL, for providers each institution hosts itself (FDX)')
    .option('--timeout <seconds>', 'Give up when the browser has not come back in time', { default: 300 })
    .option('--no-open', 'Print the URL only; do not open a browser')
    .example('FDX_CLIENT_SECRET=… portico login fdx --client-id my-app --auth-url https://auth.bank.example --scope openid --scope accounts')
    .action((provider: string, options: Record<string, unknown>) => {
      run = () =>
        login(
          provider,
          {
            clientId: list(options.clientId).at(-1) ?? '',
            scope: list(options.scope).flatMap((s) => s.split(/[ ,]+/)).filter(Boolean),
            port: Number(options.port),
            ...(options.out ? { out: String(options.out) } : {}),
            ...(options.authUrl ? { authUrl: String(options.authUrl) } : {}),
            timeout: Number(options.timeout),
            open: options.open !== false,
          },
          io.out,
        );
    });

  cli
    .command('call <provider> <method> <path>', 'Call an operation and print the JSON result')
    .option('--param <name=value>', 'Path, query or header parameter; repeatable', { type: [String] })
    .option('--body <json|@file>', 'Request body as JSON, or @file to read it from a file')
    .option('--tokens <file>', 'Tokens from portico login (default .portico/<provider>.json)')
    .option('--base-url <url>', "API base URL (default: the spec's server)")
    .example('portico call fdx GET /accounts/{accountId} --param accountId=acct-1')
    .example('portico call fdx GET /accounts/acct-1/transactions --param limit=10')
    .action((provider: string, method: string, path: string, options: Record<string, unknown>) => {
      run = async () => {
        const data = await call(provider, method, path, {
          param: list(options.param),
          ...(options.body !== undefined ? { body: String(options.body) } : {}),
          ...(options.tokens ? { tokens: String(options.tokens) } : {}),
          ...(options.baseUrl ? { baseUrl: String(options.baseUrl) } : {}),
        });
        io.out(JSON.stringify(data ?? null, null, 2));
      };
    });

  cli.command('providers', 'List providers, their auth and their operations').action(() => {
    run = async () => io.out(describeProviders());
  });

  cli.help();
  cli.version((createRequire(import.meta.url)('../package.json') as { version: string }).version);
  try {
    cli.parse(['node', 'portico', ...argv], { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (!cli.matchedCommand) {
      if (cli.args.length > 0) throw Object.assign(new Error(`unknown command "${cli.args[0]}"`), { name: 'CACError' });
      cli.outputHelp();
      return 0;
    }
    cli.runMatchedCommand();
    if (!run) return 0;
    await run();
    return 0;
  } catch (error) {
    return report(error, io);
  }
}
