import { MemoryTokenStore } from '../src/index.js';
import { describeTokenStore } from '../src/testing/index.js';

describeTokenStore('MemoryTokenStore', { create: () => new MemoryTokenStore() });
describeTokenStore('MemoryTokenStore with a 100 ms lease', { create: () => new MemoryTokenStore({ leaseMs: 100 }), lease: { ms: 100 } });
