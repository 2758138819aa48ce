// Node.js 22 (maintenance LTS), the pinned binary from tools/runtimes.mjs.
import { inject } from 'vitest';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { ecosystemSuite, runProcess } from './harness.ts';

ecosystemSuite(`Node.js ${RUNTIMES.node22.version}`, (consumer, config) => runProcess(consumer, inject('runtimes').node22!, ['main.mjs', JSON.stringify(config)]));
