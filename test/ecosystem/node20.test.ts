// Node.js 20, the line every other group runs on: the host's own binary.
import { ecosystemSuite, runProcess } from './harness.ts';

ecosystemSuite(`Node.js ${process.version} (host)`, (consumer, config) =>
  runProcess(consumer, process.execPath, ['main.mjs', JSON.stringify(config)]),
);
