// Many processes, one grant. Six Node processes, each with 20 concurrent
// callers, share one session in one Redis against oidc-provider with
// rotating refresh tokens (a reused one revokes the grant) and 2-second
// access tokens, for 10 s, under each fault: the lock holder SIGKILLed, a
// token endpoint slower than the lease, Redis stopped and restarted. A
// front server on 127.0.0.1 forwards token requests to oidc-provider (and
// counts every refresh token it sees twice) and serves the API call.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createOAuthFlow, ReauthorizationRequiredError, type Tokens } from '@portico/auth';
import { OIDC_CLIENTS, type OidcHarness, type RedisServer, startOidcProvider, startRedis } from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index.js';

const PROCESSES = 6;
const CALLERS = 20;
const DURATION_MS = 10_000;
const LOCK_TTL_MS = 2_000;
const WORKER = fileURLToPath(new URL('./soak-worker.ts', import.meta.url));

type Fault = 'kill' | 'slow' | 'redis';

interface Run {
  fault: Fault;
  started: number;
  tokenRequests: number;
  seen: Set<string>;
  reused: number;
  /** When the injected fault was active: failures inside it are expected. */
  window: [number, number] | undefined;
  killed: number | undefined;
}

let redis: RedisServer;
let oidc: OidcHarness;
let front: Server;
let frontUrl = '';
let run: Run | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// The token endpoint, forwarded to oidc-provider with the run's fault; and the API.
async function handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
  if (req.url === '/api') {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const found = token === undefined ? undefined : await oidc.provider.AccessToken.find(token);
    res.writeHead(found && !found.isExpired ? 200 : 401, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  const raw = await body(req);
  const form = new URLSearchParams(raw.toString());
  const r = run;
  if (r && form.get('grant_type') === 'refresh_token') {
    r.tokenRequests += 1;
    const elapsed = Date.now() - r.started;
    const pid = Number(req.headers['x-soak-pid']);
    if (r.fault === 'kill' && r.killed === undefined && elapsed > 3_000) {
      // The lock holder dies before its refresh reaches the server: its lease must run out and another process take over.
      r.killed = pid;
      process.kill(pid, 'SIGKILL');
      r.window = [Date.now(), Date.now()];
      req.socket.destroy();
      return;
    }
    if (r.fault === 'slow' && elapsed > 3_000 && elapsed < 6_000) {
      r.window ??= [Date.now(), Date.now()];
      await sleep(LOCK_TTL_MS * 1.5);
    }
    const rt = form.get('refresh_token')!;
    if (r.seen.has(rt)) r.reused += 1;
    r.seen.add(rt);
  }
  const upstream = await fetch(`${oidc.issuer}${req.url}`, {
    method: req.method,
    headers: {
      'content-type': req.headers['content-type'] ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      accept: 'application/json',
    },
    body: raw,
  });
  res.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
    'cache-control': 'no-store',
  });
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

beforeAll(async () => {
  [redis, oidc] = await Promise.all([startRedis(), startOidcProvider()]);
  front = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise((resolve) => front?.close(resolve));
  await Promise.all([redis?.close(), oidc?.close()]);
});

async function grant(): Promise<Tokens> {
  const flow = createOAuthFlow(oidc.profile(), { ...OIDC_CLIENTS.app, redirectUri: oidc.redirectUri, baseUrl: oidc.issuer });
  const request = await flow.authorizationUrl({ scope: ['api:read', 'offline_access'] });
  const callback = await oidc.authorize(request.url);
  return flow.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! });
}

interface WorkerResult {
  pid: number;
  calls: number;
  failures: { at: number; code: string }[];
}

function worker(config: object): { pid: number; done: Promise<WorkerResult | undefined> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, SOAK_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err += c));
  const done = new Promise<WorkerResult | undefined>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), DURATION_MS + 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(undefined);
      else if (code !== 0) reject(new Error(`soak worker exited ${code}: ${err.slice(-3000)}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
    });
  });
  return { pid: child.pid!, done };
}

async function soak(fault: Fault) {
  oidc.accessTokenTtl = 2;
  const tokens = await grant();
  const key = `soak:${fault}`;
  const r: Run = { fault, started: Date.now(), tokenRequests: 0, seen: new Set(), reused: 0, window: undefined, killed: undefined };
  run = r;
  const config = {
    redisUrl: redis.url,
    frontUrl,
    profile: oidc.profile(),
    client: OIDC_CLIENTS.app,
    redirectUri: oidc.redirectUri,
    tokens,
    key,
    callers: CALLERS,
    durationMs: DURATION_MS,
    lockTtlMs: LOCK_TTL_MS,
  };
  const workers = Array.from({ length: PROCESSES }, () => worker(config));
  if (fault === 'redis') {
    await sleep(4_000);
    const stopped = Date.now();
    await redis.stop();
    await sleep(1_500);
    await redis.start();
    r.window = [stopped, Date.now()];
  }
  const results = (await Promise.all(workers.map((w) => w.done))).filter((x): x is WorkerResult => x !== undefined);
  run = undefined;
  // Lost grant: the stored refresh token no longer works.
  const store = createRedisStore({ url: redis.url });
  const stored = await store.get(key);
  await store.close();
  const flow = createOAuthFlow(oidc.profile(), { ...OIDC_CLIENTS.app, redirectUri: oidc.redirectUri, baseUrl: oidc.issuer });
  const lost =
    stored === undefined ||
    (await flow.refresh(stored.tokens).then(
      () => false,
      (e: unknown) => e instanceof ReauthorizationRequiredError,
    ))
      ? 1
      : 0;
  const failures = results.flatMap((w) => w.failures);
  // Failures inside the fault's window (plus the reconnect after it) are the fault's; any other is a failure of the design.
  const [from, to] = r.window ?? [0, 0];
  const outside = failures.filter((f) => f.at < from || f.at > to + 2_000);
  const summary = {
    fault,
    processes: results.length + (r.killed ? 1 : 0),
    calls: results.reduce((n, w) => n + w.calls, 0),
    failed: failures.length,
    failedOutsideFault: outside.length,
    failureCodes: [...new Set(failures.map((f) => f.code))],
    tokenRequests: r.tokenRequests,
    reusedRefreshTokens: r.reused,
    lostGrants: lost,
  };
  console.log(`soak ${JSON.stringify(summary)}`);
  return { summary, killed: r.killed, outside };
}

describe('six processes, one grant, one Redis, rotating refresh tokens', () => {
  it('the lock holder is SIGKILLed: its lease runs out, another process refreshes; nothing reused, nothing lost', async () => {
    const { summary, killed } = await soak('kill');
    expect(killed).toBeDefined();
    expect(summary).toMatchObject({ failed: 0, reusedRefreshTokens: 0, lostGrants: 0 });
    expect(summary.tokenRequests).toBeGreaterThan(3);
  });

  it('the token endpoint is slower than the lease: the holder keeps its lease while it waits; nothing reused, nothing lost', async () => {
    const { summary } = await soak('slow');
    expect(summary).toMatchObject({ failed: 0, reusedRefreshTokens: 0, lostGrants: 0 });
  });

  it('Redis is stopped and restarted: calls fail fast with a typed error meanwhile, then go on; nothing reused, nothing lost', async () => {
    const { summary, outside } = await soak('redis');
    expect(outside).toEqual([]);
    expect(summary.failureCodes.every((code) => code === 'token_store_error/redis_unavailable')).toBe(true);
    expect(summary).toMatchObject({ reusedRefreshTokens: 0, lostGrants: 0 });
  });
});
