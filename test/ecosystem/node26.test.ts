// Node.js 26, the pinned binary from tools/runtimes.mjs.
import { pinnedNodeSuite } from './harness.ts';

pinnedNodeSuite('node26');
