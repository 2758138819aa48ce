import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SEARCH_BODY } from './fixtures.ts';
import { BENCH_DIR } from './results.ts';

export interface Loopback {
  url: string;
  tokenRequests(reset?: boolean): Promise<number>;
  /** TCP connections accepted since the last reset (the stats request's own included). */
  connections(): Promise<number>;
  close(): void;
}

/** Starts bench/lib/server.ts in a child process; it stops when we close its stdin (or exit). */
export async function startLoopback(tokenLatencyMs = 5): Promise<Loopback> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'lib', 'server.ts')], {
    env: { ...process.env, TOKEN_LATENCY_MS: String(tokenLatencyMs), SEARCH_BODY },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async tokenRequests(reset = false) {
      const r = await fetch(`${url}/__stats${reset ? '?reset' : ''}`);
      return ((await r.json()) as { tokenRequests: number }).tokenRequests;
    },
    async connections() {
      const r = await fetch(`${url}/__stats`);
      return ((await r.json()) as { connections: number }).connections;
    },
    close() {
      child.stdin!.end();
    },
  };
}
