// Node.js 22, the pinned binary from tools/runtimes.mjs.
import { pinnedNodeSuite } from './harness.ts';

pinnedNodeSuite('node22');
