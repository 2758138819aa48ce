// Node.js 24 (active LTS), the pinned binary from tools/runtimes.mjs.
import { inject } from 'vitest';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { ecosystemSuite, runProcess } from './harness.ts';

ecosystemSuite(`Node.js ${RUNTIMES.node24.version}`, (consumer, config) => runProcess(consumer, inject('runtimes').node24!, ['main.mjs', JSON.stringify(config)]));
