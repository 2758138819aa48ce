// Bun runs the same program from the same node_modules.
import { inject } from 'vitest';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { ecosystemSuite, runProcess } from './harness.ts';

ecosystemSuite(`Bun ${RUNTIMES.bun.version}`, (consumer, config) =>
  runProcess(consumer, inject('runtimes').bun!, ['main.mjs', JSON.stringify(config)], {
    BUN_INSTALL_CACHE_DIR: `${consumer}/.bun-cache`,
    DO_NOT_TRACK: '1',
  }),
);
