// One process of the soak: many concurrent callers sharing one session whose
// tokens live in Redis. Prints one JSON line with its counts when done.
import { type AuthProfile, createOAuthFlow, type Tokens } from '@portico/auth';
import { callApi } from '@portico/testing';
import { createRedisStore, type RedisStoreOptions } from '../src/index.js';

interface Config {
  redis: Pick<RedisStoreOptions, 'url' | 'cluster'>;
  frontUrl: string;
  profile: AuthProfile;
  client: { clientId: string; clientSecret: string };
  redirectUri: string;
  tokens: Tokens;
  key: string;
  callers: number;
  durationMs: number;
  lockTtlMs: number;
}

const config = JSON.parse(process.env.SOAK_CONFIG!) as Config;
const store = createRedisStore({ ...config.redis, lockTtlMs: config.lockTtlMs });
const pid = String(process.pid);
const flow = createOAuthFlow(config.profile, {
  ...config.client,
  redirectUri: config.redirectUri,
  baseUrl: config.frontUrl,
  // Tells the test which process sent a token request, so it can kill the lock holder.
  fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-soak-pid': pid } }),
});
const session = flow.session(config.tokens, { store, key: config.key });

let calls = 0;
const failures: { at: number; code: string }[] = [];
// The test starts its clock (and its faults) once every worker is ready.
process.stdout.write('ready\n');
const end = Date.now() + config.durationMs;

async function caller(): Promise<void> {
  while (Date.now() < end) {
    calls += 1;
    try {
      const { response } = await callApi(session, `${config.frontUrl}/api`);
      await response.arrayBuffer();
      if (response.status !== 200) failures.push({ at: Date.now(), code: `http_${response.status}` });
    } catch (error) {
      const e = error as { code?: string; cause?: { code?: string } };
      failures.push({ at: Date.now(), code: `${e.code ?? 'unknown'}${e.cause?.code ? `/${e.cause.code}` : ''}` });
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 20));
  }
}

await Promise.all(Array.from({ length: config.callers }, caller));
await store.close();
// Which @portico/auth ran: the test checks it is the source under test, not a stale dist.
const auth = import.meta.resolve('@portico/auth');
process.stdout.write(`${JSON.stringify({ pid: process.pid, calls, failures, auth })}\n`);
