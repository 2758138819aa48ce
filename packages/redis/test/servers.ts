// Redis topologies beyond one server, on 127.0.0.1, for tests: a three-node
// Redis Cluster (redis-server in cluster mode, joined with `redis-cli
// --cluster create`, append-only data so a stop and start keeps it) and a
// Sentinel watching one server. Every process is daemonized with a pid file
// in a temp dir of its own and stopped by its port, else its pid; every
// wait is bounded.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@portico/testing';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const WAIT_MS = 15_000;
const run = promisify(execFile);

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5_000 })).stdout;
}

/** SHUTDOWN, else SIGKILL by the pid the server wrote. */
async function stop(dir: string, port: number): Promise<void> {
  const pid = Number(readFileSync(join(dir, `${port}.pid`), 'utf8'));
  const gone = async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  await cli(port, 'SHUTDOWN').catch(() => undefined);
  await until('stop', gone).catch(() => process.kill(pid, 'SIGKILL'));
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Redis did not ${what} within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export class RedisCluster {
  readonly #dir = mkdtempSync(join(tmpdir(), 'portico-redis-cluster-'));
  readonly #ports: number[];
  readonly #busPorts: number[];

  constructor(ports: number[], busPorts: number[]) {
    this.#ports = ports;
    this.#busPorts = busPorts;
  }

  /** `redis://127.0.0.1:<port>` of each node. */
  get urls(): string[] {
    return this.#ports.map((port) => `redis://127.0.0.1:${port}`);
  }

  /** Starts the three nodes (daemonized, each with its pid file) and waits for `cluster_state:ok`; creates the cluster the first time. */
  async start(create = false): Promise<this> {
    for (const [i, port] of this.#ports.entries()) {
      // prettier-ignore
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.#dir,
        '--daemonize',
        'yes',
        '--pidfile',
        join(this.#dir, `${port}.pid`),
        '--logfile',
        join(this.#dir, `${port}.log`),
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(this.#busPorts[i]),
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--appenddirname',
        `aof-${port}`,
        '--save',
        '',
      ];
      await run(REDIS_SERVER, args, { timeout: 5_000 });
    }
    await until('start', async () =>
      (await Promise.all(this.#ports.map((port) => cli(port, 'PING')))).every((out) => out.trim() === 'PONG'),
    );
    if (create) {
      const nodes = this.#ports.map((port) => `127.0.0.1:${port}`);
      await run(REDIS_CLI, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    }
    await until('reach cluster_state:ok', async () =>
      (await Promise.all(this.#ports.map((port) => cli(port, 'CLUSTER', 'INFO')))).every((out) => out.includes('cluster_state:ok')),
    );
    return this;
  }

  /** Each node's process id, from the pid file it wrote (to SIGSTOP it: a node that stalls). */
  pids(): number[] {
    return this.#ports.map((port) => Number(readFileSync(join(this.#dir, `${port}.pid`), 'utf8')));
  }

  /** Stops every node (its data stays for `start()`). */
  async stop(): Promise<void> {
    await Promise.all(this.#ports.map((port) => stop(this.#dir, port)));
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Starts a fresh three-node cluster; fails (never skips) when redis-server or redis-cli is missing. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const cluster = new RedisCluster(ports.slice(0, 3), ports.slice(3));
  try {
    return await cluster.start(true);
  } catch (error) {
    await cluster.close();
    throw error;
  }
}

export interface RedisSentinel {
  /** The master's name to give createSentinel(). */
  name: string;
  port: number;
  close(): Promise<void>;
}

/** A Sentinel on a free port that watches the server on `masterPort` under the name `portico`. */
export async function startSentinel(masterPort: number): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-sentinel-'));
  const port = await freePort();
  const close = async () => {
    await stop(dir, port).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Sentinel rewrites its config file, so it gets one of its own.
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize yes',
        `pidfile ${join(dir, `${port}.pid`)}`,
        `logfile ${join(dir, 'sentinel.log')}`,
        `dir ${dir}`,
        `sentinel monitor portico 127.0.0.1 ${masterPort} 1`,
        '',
      ].join('\n'),
    );
    await run(REDIS_SERVER, [config, '--sentinel'], { timeout: 5_000 });
    await until('start a Sentinel', async () =>
      (await cli(port, 'SENTINEL', 'get-master-addr-by-name', 'portico')).includes(String(masterPort)),
    );
    return { name: 'portico', port, close };
  } catch (error) {
    await close();
    throw error;
  }
}
