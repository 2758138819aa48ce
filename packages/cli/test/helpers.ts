// The CLI as users run it: a child process of its own (its own cwd,
// environment and lock), against loopback servers only.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearerOf, json, LoopbackServer, OIDC_CLIENTS, type OidcHarness, startOidcProvider } from '../../testing/src/index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export const CLIENT = OIDC_CLIENTS.app;

/** The command that runs `portico`: the TypeScript source through tsx, as the other tests see it (no stale dist). */
const SOURCE_BIN = ['--conditions=@portico/source', '--import', import.meta.resolve('tsx'), join(ROOT, 'packages/cli/src/bin.ts')];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Run {
  /** The process's id: a test may stop and continue it. */
  pid: number;
  /** Resolves with the first stdout match of `pattern`, failing after `ms` or when the process ends first. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exit: Promise<Exit>;
}

/** Starts `portico args` in `cwd` with exactly `env`; killed after `killAfterMs` so no test waits forever. */
export function portico(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; bin?: string[]; killAfterMs?: number }): Run {
  const child = spawn(process.execPath, [...(options.bin ?? SOURCE_BIN), ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const killer = setTimeout(() => child.kill(), options.killAfterMs ?? 50_000);
  const exit = new Promise<Exit>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    pid: child.pid!,
    exit,
    async waitFor(pattern, ms = 30_000) {
      for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no ${pattern} in output: ${stdout} ${stderr}`);
    },
  };
}

/** oidc-provider at FDX's endpoint paths, with the CLI's loopback callback on `port` as the client's redirect URI. */
export const startFdxAuthServer = (port: number, interactions: 'server' | 'browser' = 'server') =>
  startOidcProvider(`http://127.0.0.1:${port}/callback`, {
    interactions,
    routes: { authorization: '/oauth2/v4/authorize', token: '/oauth2/v4/token', revocation: '/oauth2/v4/revoke' },
    extraScopes: ['customers', 'accounts', 'transactions'],
  });

/** `portico login fdx` against `issuer`, listening on `port`. */
export const loginArgs = (issuer: string, port: number, extra: string[] = []) => [
  'login',
  'fdx',
  '--client-id',
  CLIENT.clientId,
  '--auth-url',
  issuer,
  '--port',
  String(port),
  '--scope',
  'openid accounts',
  ...extra,
];

/** The FDX customer endpoint, accepting only tokens the authorization server says are active. */
export class FdxApi extends LoopbackServer {
  readonly bearers: string[] = [];
  constructor(oidc: OidcHarness, customer: unknown = { customerId: 'cust-0001' }) {
    super();
    this.route('GET /customers/current', async (request) => {
      const token = bearerOf(request) ?? '';
      this.bearers.push(token);
      const { active } = await oidc.introspect(token, CLIENT);
      return active ? json(200, customer) : json(401, { code: 401, message: 'token expired or unknown' });
    });
  }
}

/**
 * Makes `path` impossible to change for this process and its children, root
 * included: chmod does not stop root, the immutable attribute does (ext4,
 * xfs, btrfs). Another user gets chmod, which is enough for a directory.
 */
export function freeze(path: string): void {
  if (process.getuid?.() === 0) execFileSync('chattr', ['+i', path]);
  else execFileSync('chmod', ['a-w', path]);
}

export function thaw(path: string): void {
  if (process.getuid?.() === 0) execFileSync('chattr', ['-i', path]);
  else execFileSync('chmod', ['u+w', path]);
}
