// The `portico` command line. Arguments are parsed by node:util parseArgs:
// built in, strict about unknown options, repeatable options, and values kept
// exactly as typed (cac, tried first, turns `--client-id 0012` into 12 and
// `--body " "` into 0 through mri's number coercion).
import { createRequire } from 'node:module';
import { inspect, parseArgs } from 'node:util';
import { PorticoError } from '@portico/auth';
import { call } from './call.js';
import { providers } from './catalog.js';
import { CliError } from './errors.js';
import { login } from './login.js';
import { jsonText, oneLine, printable } from './terminal.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  value?: string;
  help: string;
}

interface CommandSpec {
  args: string[];
  summary: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  run(args: string[], options: Record<string, string | string[] | boolean | undefined>, io: Io): Promise<void>;
}

const last = (value: unknown): string | undefined => (Array.isArray(value) ? value.at(-1) : typeof value === 'string' ? value : undefined);
const all = (value: unknown): string[] => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []);

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

const COMMANDS: Record<string, CommandSpec> = {
  login: {
    args: ['provider'],
    summary: 'Authorize in the browser and save tokens (authorization-code providers)',
    options: {
      'client-id': {
        type: 'string',
        value: 'id',
        help: 'OAuth client id; the secret comes from <PROVIDER>_CLIENT_SECRET, PORTICO_CLIENT_SECRET or a prompt',
      },
      scope: {
        type: 'string',
        multiple: true,
        value: 'scope',
        help: 'Scope to request; repeat or separate with spaces (default: the provider default)',
      },
      port: { type: 'string', value: 'port', help: 'Loopback port of the redirect URI http://127.0.0.1:<port>/callback (default 8976)' },
      out: { type: 'string', value: 'file', help: "Where to write the tokens, mode 0600 (default: portico's config directory)" },
      'auth-url': { type: 'string', value: 'url', help: 'Authorization server base URL, for providers each institution hosts (FDX)' },
      timeout: { type: 'string', value: 'seconds', help: 'Give up when the browser has not come back in time (default 300)' },
      'no-open': { type: 'boolean', help: 'Print the URL only; do not open a browser' },
    },
    examples: ['FDX_CLIENT_SECRET=… portico login fdx --client-id my-app --auth-url https://auth.bank.example --scope "openid accounts"'],
    async run([provider], options, io) {
      await login(
        provider!,
        {
          clientId: last(options['client-id']) ?? '',
          scope: all(options.scope)
            .flatMap((s) => s.split(/[ ,]+/))
            .filter(Boolean),
          port: Number(last(options.port) ?? 8976),
          ...(last(options.out) ? { out: last(options.out)! } : {}),
          ...(last(options['auth-url']) ? { authUrl: last(options['auth-url'])! } : {}),
          timeout: Number(last(options.timeout) ?? 300),
          open: options['no-open'] !== true,
        },
        io.out,
      );
    },
  },
  call: {
    args: ['provider', 'method', 'path'],
    summary: 'Call an operation and print the JSON result',
    options: {
      param: { type: 'string', multiple: true, value: 'name=value', help: 'Path, query or header parameter; repeatable' },
      body: { type: 'string', value: 'json|@file', help: 'Request body as JSON, or @file to read it from a file' },
      tokens: { type: 'string', value: 'file', help: "Tokens from portico login (default: portico's config directory)" },
      'auth-url': {
        type: 'string',
        value: 'url',
        help: "Authorization server base URL (FDX); needed with a --tokens file outside portico's config directory",
      },
      'base-url': { type: 'string', value: 'url', help: "API base URL (default: the spec's server)" },
    },
    examples: [
      'portico call fdx GET /accounts/{accountId} --param accountId=acct-1',
      'portico call fdx GET /accounts/acct-1/transactions --param limit=10',
    ],
    async run([provider, method, path], options, io) {
      const data = await call(provider!, method!, path!, {
        param: all(options.param),
        ...(last(options.body) !== undefined ? { body: last(options.body)! } : {}),
        ...(last(options.tokens) ? { tokens: last(options.tokens)! } : {}),
        ...(last(options['base-url']) ? { baseUrl: last(options['base-url'])! } : {}),
        ...(last(options['auth-url']) ? { authUrl: last(options['auth-url'])! } : {}),
      });
      io.out(jsonText(data));
    },
  },
  mock: {
    args: ['provider'],
    summary: "Serve a provider's fake (@portico/mock) on 127.0.0.1, for local development and tests",
    options: {
      port: { type: 'string', value: 'port', help: 'Port on 127.0.0.1 (default: any free one); the mock never listens elsewhere' },
    },
    examples: ['portico mock fdx', 'portico mock finexer --port 4010'],
    async run([provider], options, io) {
      // Loaded here only: login and call, which handle real tokens, never load the mock (nor its ajv).
      const { mock } = await import('./mock.js');
      await mock(provider!, last(options.port), io.out);
    },
  },
  providers: {
    args: [],
    summary: 'List providers, their auth and their operations',
    options: {},
    examples: ['portico providers'],
    async run(_args, _options, io) {
      io.out(describeProviders());
    },
  },
};

const usageLine = (name: string, spec: CommandSpec) =>
  `portico ${name}${spec.args.map((a) => ` <${a}>`).join('')}${Object.keys(spec.options).length ? ' [options]' : ''}`;

function commandHelp(name: string, spec: CommandSpec): string {
  const rows = [...Object.entries(spec.options), ['help', { type: 'boolean', help: 'Show this help' } as OptionSpec] as const].map(
    ([option, o]) => [`${option === 'help' ? '-h, ' : '    '}--${option}${o.value ? ` <${o.value}>` : ''}`, o.help] as const,
  );
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ${usageLine(name, spec)}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

function mainHelp(version: string): string {
  const width = Math.max(...Object.entries(COMMANDS).map(([name, spec]) => usageLine(name, spec).length));
  return [
    `portico ${version}: log in to API providers and call them through typed Portico clients`,
    '',
    'Usage: portico <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${usageLine(name, spec).padEnd(width)}  ${spec.summary}`),
    '',
    'Options:',
    '  -h, --help     Show help (also: portico <command> --help)',
    '  -v, --version  Show the version',
  ].join('\n');
}

/**
 * One line per failure; API errors add the redacted body. Exit code 1 for
 * failures, 2 for a malformed command line. Every message goes on one line,
 * a CliError's too: it quotes paths, URLs and values from files someone else
 * may have written (a --tokens file's authBaseUrl), whose line breaks would
 * print as lines of portico's own.
 */
function report(error: unknown, io: Io): number {
  if (error instanceof PorticoError) {
    io.err(`portico: ${error.name} [${error.code}]: ${oneLine(error.message)}`);
    const view = JSON.parse(JSON.stringify(error)) as { body?: unknown };
    if (view.body !== undefined) io.err(jsonText(view.body));
    return error.name === 'CliError' && /^(unknown|invalid|missing|unexpected|unsupported)_/.test(error.code) ? 2 : 1;
  }
  io.err(`portico: ${oneLine(error instanceof Error ? error.message : inspect(error))}`);
  return 1;
}

export async function main(
  argv: string[],
  terminal: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) },
): Promise<number> {
  // Every line portico prints passes here, whoever wrote the text in it.
  const io: Io = { out: (t) => terminal.out(printable(t)), err: (t) => terminal.err(printable(t)) };
  const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(mainHelp(version));
    return 0;
  }
  if (name === '-v' || name === '--version') {
    io.out(version);
    return 0;
  }
  try {
    const spec = COMMANDS[name];
    if (!spec)
      throw new CliError(
        'unknown_command',
        `unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see portico --help)`,
      );
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        options: {
          ...Object.fromEntries(
            Object.entries(spec.options).map(([option, o]) => [option, { type: o.type, multiple: o.multiple ?? false }]),
          ),
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      // parseArgs' own messages are clear; they get the usual prefix and exit code.
      throw new CliError('invalid_arguments', `${(error as Error).message.split('\n')[0]} (see portico ${name} --help)`);
    }
    if (parsed.values.help) {
      io.out(commandHelp(name, spec));
      return 0;
    }
    if (parsed.positionals.length !== spec.args.length) {
      throw new CliError('invalid_arguments', `usage: ${usageLine(name, spec)} (see portico ${name} --help)`);
    }
    await spec.run(parsed.positionals, parsed.values as Record<string, string | string[] | boolean | undefined>, io);
    return 0;
  } catch (error) {
    return report(error, io);
  }
}
