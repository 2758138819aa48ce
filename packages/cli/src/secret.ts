// The client secret never comes from argv (visible in `ps` and shell
// history): an environment variable, or a prompt that does not echo.
import { providers } from './catalog.js';
import { CliError } from './errors.js';

/** `FDX_CLIENT_SECRET`, `DEXERO_FD_ACCESS_TOKEN`: the variables portico reads for a provider. */
export const envName = (slug: string, what: string) => `${slug.replace(/-/g, '_').toUpperCase()}_${what}`;

const clientSecretNames = (slug: string) => [envName(slug, 'CLIENT_SECRET'), 'PORTICO_CLIENT_SECRET'];

/**
 * The environment without any variable portico reads a secret from, for
 * every provider: for the processes it starts (the browser), which have no
 * use for them and may log or hand on their environment.
 */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = new Set(providers().flatMap((p) => [...clientSecretNames(p.slug), envName(p.slug, 'ACCESS_TOKEN')]));
  // Windows names are case-insensitive.
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.has(name.toUpperCase())));
}

export async function clientSecret(slug: string): Promise<string> {
  const names = clientSecretNames(slug);
  for (const name of names) {
    const value = process.env[name];
    if (value) return value;
  }
  if (!process.stdin.isTTY)
    throw new CliError(
      'missing_client_secret',
      `set ${names[0]} (or ${names[1]}) to the client secret; it is never read from the command line`,
    );
  return promptHidden('Client secret: ');
}

function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n')
          return done(value ? undefined : new CliError('missing_client_secret', 'no client secret entered'));
        if (char === '\u0003') return done(new CliError('cancelled', 'cancelled'));
        value = char === '\u007f' || char === '\b' ? value.slice(0, -1) : value + char;
      }
    };
    input.on('data', onData);
  });
}
