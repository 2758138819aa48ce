// Cloudflare's workerd runs the same program as a worker, bundled from the
// installed packages by esbuild the way Wrangler does (platform neutral, the
// workerd/worker/browser export conditions, no Node.js compatibility flag).
// The worker's fetch is the runtime's own; its only outbound service is a
// network restricted to loopback addresses, where the emulators listen.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { inject } from 'vitest';
import { freePort } from '../../packages/testing/src/index.ts';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { EDGE_BUILD, ecosystemSuite, type Results } from './harness.ts';

const COMPATIBILITY_DATE = '2026-11-17';

const config = (port: number) => `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "scenario", worker = .scenario),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "scenario")],
);

const scenario :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  globalOutbound = "loopback",
);
`;

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      resolve(true);
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
  });

async function runInWorker(consumer: string, scenarioConfig: object): Promise<Results> {
  const dir = join(consumer, '.workerd');
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(consumer, 'worker.mjs')],
    outfile: join(dir, 'worker.js'),
    ...EDGE_BUILD,
  });
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), config(port));
  const logFile = join(dir, 'workerd.log');
  const out = openSync(logFile, 'w');
  const child = spawn(inject('runtimes').workerd!, ['serve', 'config.capnp', '--verbose'], { cwd: dir, stdio: ['ignore', out, out] });
  const log = () => readFileSync(logFile, 'utf8').slice(-4000);
  try {
    const deadline = Date.now() + 30_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}:\n${log()}`);
      if (Date.now() > deadline) throw new Error(`workerd did not listen on 127.0.0.1:${port} within 30 s:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: JSON.stringify(scenarioConfig),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the worker answered HTTP ${response.status}: ${text.slice(0, 2000)}\n${log()}`);
    return JSON.parse(text) as Results;
  } finally {
    child.kill('SIGKILL');
  }
}

ecosystemSuite(`Cloudflare workerd ${RUNTIMES.workerd.version} (compatibility date ${COMPATIBILITY_DATE})`, runInWorker);
