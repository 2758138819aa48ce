// A real npm registry on 127.0.0.1: Verdaccio 5 (6 needs Node 22), storage
// in the caller's temporary folder, no uplinks, so nothing it serves comes
// from outside the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../packages/testing/src/util.ts';
import { ROOT } from '../../tools/lib/specs.ts';

export interface Registry {
  url: string;
  /** Auth token of the publishing user, for an .npmrc. */
  token: string;
  /** The lines an .npmrc needs to install from and publish to this registry. */
  npmrc: string;
  log(): string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export async function startVerdaccio(dir: string, timeoutMs = 30_000): Promise<Registry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    algorithm: bcrypt
    rounds: 4
uplinks: {}
packages:
  '**':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
web:
  enable: false
# A platform's prebuilt binary (rolldown's, which vitest needs through vite) is over the default 10 MB.
max_body_size: 100mb
log: { type: stdout, format: json, level: warn }
`,
  );
  const logFile = join(dir, 'verdaccio.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/verdaccio/bin/verdaccio'), '--config', config, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  const log = () => readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited(child);
    clearTimeout(timer);
  };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${log()}`);
      if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url} within ${timeoutMs} ms:\n${log()}`);
      const ok = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const response = await fetch(`${url}-/user/org.couchdb.user:portico-ci`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'portico-ci', password: 'portico-ci-password' }),
    });
    const { token } = (await response.json()) as { token?: string };
    if (!response.ok || !token) throw new Error(`could not create the registry user: HTTP ${response.status}`);
    const npmrc = `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`;
    return { url, token, npmrc, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
