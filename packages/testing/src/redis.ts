// A real redis-server on 127.0.0.1 for tests: a free port, its own temp dir,
// append-only persistence (so a stop and restart keeps the data, as a
// production Redis would), stopped by its pid. Every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './util.js';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #process: ChildProcess | undefined;

  constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts redis-server and resolves once it accepts connections. */
  async start(): Promise<this> {
    if (this.#process) return this;
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--protected-mode',
        'yes',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
        START_TIMEOUT_MS,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        this.#process = undefined;
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.removeAllListeners('error');
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    return this;
  }

  /** Stops redis-server by its pid (SIGTERM, SIGKILL after a bound) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) {
      this.#process = undefined;
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(
      () => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
      STOP_TIMEOUT_MS,
    );
    await exited;
    clearTimeout(timer);
    this.#process = undefined;
  }

  /** Stops it and removes its data directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a redis-server for a test; it fails (never skips) when redis-server is not installed. */
export async function startRedis(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: run \`npm run build\` (installs it), or \`apt-get install -y redis-server\` as root`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'));
  return new RedisServer(await freePort(), dir).start();
}
