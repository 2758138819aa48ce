// Starts Prism on 127.0.0.1 as a mock that validates every request against
// the spec (--errors: an invalid request is answered with an error status and
// an `sl-violations` header instead of a mock body).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../packages/testing/src/util.ts';
import { ROOT, specPath } from '../../tools/lib/specs.ts';

export interface Prism {
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startPrism(slug: string): Promise<Prism> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules/.bin/prism'),
    ['mock', specPath(slug), '-h', '127.0.0.1', '-p', String(port), '--errors'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`prism for ${slug} did not start in 60 s:\n${log}`)), 60_000);
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
      reject(new Error(`prism for ${slug} exited with ${code}:\n${log}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
