// Deno runs the same program from the project's node_modules (its
// package.json makes Deno resolve bare specifiers there), with network
// access to the loopback address only and no other permission.
import { inject } from 'vitest';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { ecosystemSuite, runProcess } from './harness.ts';

ecosystemSuite(`Deno ${RUNTIMES.deno.version}`, (consumer, config) =>
  runProcess(
    consumer,
    inject('runtimes').deno!,
    ['run', '--allow-net=127.0.0.1', '--node-modules-dir=manual', '--no-lock', 'main.mjs', JSON.stringify(config)],
    {
      DENO_DIR: `${consumer}/.deno`,
      DENO_NO_UPDATE_CHECK: '1',
      DENO_NO_PROMPT: '1',
    },
  ),
);
