// Starts Prism on 127.0.0.1 as a mock that validates every request against
// a spec, its security included (with `errors`, the default: an invalid
// request is answered with an error status and an `sl-violations` header
// instead of a mock body). Bounded: Prism parses a large document for a while.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../packages/testing/src/util.ts';
import { ROOT } from '../../tools/lib/specs.ts';

export interface Prism {
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startPrism(spec: string, { errors = true, timeoutMs = 60_000 } = {}): Promise<Prism> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules/.bin/prism'),
    ['mock', spec, '-h', '127.0.0.1', '-p', String(port), ...(errors ? ['--errors'] : [])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`prism for ${spec} did not start in ${timeoutMs / 1000} s:\n${log.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk;
      if (log.includes('Prism is listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`prism for ${spec} exited with ${code}:\n${log.slice(-2000)}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
