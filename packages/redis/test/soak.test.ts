// Many processes, one grant. Six Node processes, each with 20 concurrent
// callers, share one session in one Redis (a single node, and a three-node
// Redis Cluster) against oidc-provider with rotating refresh tokens (a
// reused one revokes the grant) and 2-second access tokens, for 10 s, under
// each fault: the lock holder SIGKILLed, a token endpoint slower than the
// lease, Redis stopped and restarted. A front server on 127.0.0.1 forwards
// token requests to oidc-provider (and counts every refresh token it sees
// twice) and serves the API call. The workers run the source under test
// (the @portico/source condition), as the tests do.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createOAuthFlow, ReauthorizationRequiredError, type Tokens } from '@portico/auth';
import { OIDC_CLIENTS, type OidcHarness, type RedisServer, startOidcProvider, startRedis } from '@portico/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStoreOptions } from '../src/index.js';
import { type RedisCluster, startRedisCluster } from './servers.js';

const PROCESSES = 6;
const CALLERS = 20;
const DURATION_MS = 10_000;
const LOCK_TTL_MS = 2_000;
const ACCESS_TOKEN_TTL_S = 2;
// A token is renewed once half its life is gone (the refresh skew is capped
// at half the lifetime), so one grant needs a renewal per second at most,
// plus one at the start (the granted token may already be due) and the one
// a fault cuts short (the killed holder's). More mean instances renewed on
// their own, spending refresh tokens they need not.
const MOST_TOKEN_REQUESTS = DURATION_MS / ((ACCESS_TOKEN_TTL_S * 1000) / 2) + 2;
const WORKER = fileURLToPath(new URL('./soak-worker.ts', import.meta.url));
const SOURCE = fileURLToPath(new URL('../../auth/src/index.ts', import.meta.url));

type Fault = 'kill' | 'slow' | 'redis';

interface Run {
  fault: Fault;
  started: number;
  tokenRequests: number;
  /** Token requests that the slow endpoint held back. */
  slowed: number;
  /** Token requests after the lock holder was killed. */
  afterKill: number;
  seen: Set<string>;
  reused: number;
  /** When the injected fault was active: failures inside it are expected. */
  window: [number, number] | undefined;
  killed: number | undefined;
}

interface Topology {
  options: Pick<RedisStoreOptions, 'url' | 'cluster'>;
  stop(): Promise<void>;
  start(): Promise<unknown>;
}

let redis: RedisServer;
let cluster: RedisCluster;
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
    // AccessToken is part of oidc-provider that the harness's typings leave out.
    const { AccessToken } = oidc.provider as unknown as {
      AccessToken: { find(token: string): Promise<{ isExpired: boolean } | undefined> };
    };
    const found = token === undefined ? undefined : await AccessToken.find(token);
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
    if (r.killed !== undefined) r.afterKill += 1;
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
      r.slowed += 1;
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
    body: new Uint8Array(raw),
  });
  res.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
    'cache-control': 'no-store',
  });
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

beforeAll(async () => {
  [redis, cluster, oidc] = await Promise.all([startRedis(), startRedisCluster(), startOidcProvider()]);
  front = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise((resolve) => front?.close(resolve));
  await Promise.all([redis?.close(), cluster?.close(), oidc?.close()]);
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
  auth: string;
}

interface Worker {
  pid: number;
  ready: Promise<void>;
  done: Promise<WorkerResult | undefined>;
}

function worker(config: object): Worker {
  const child = spawn(process.execPath, ['--conditions=@portico/source', '--import', 'tsx', WORKER], {
    env: { ...process.env, SOAK_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let isReady!: () => void;
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  child.stdout.on('data', (c: Buffer) => {
    out += c;
    if (out.startsWith('ready\n')) isReady();
  });
  child.stderr.on('data', (c: Buffer) => (err += c));
  const done = new Promise<WorkerResult | undefined>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), DURATION_MS + 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      isReady();
      if (signal === 'SIGKILL') resolve(undefined);
      else if (code !== 0) reject(new Error(`soak worker exited ${code}: ${err.slice(-3000)}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
    });
  });
  return { pid: child.pid!, ready, done };
}

async function soak(fault: Fault, topology: Topology) {
  oidc.accessTokenTtl = ACCESS_TOKEN_TTL_S;
  const tokens = await grant();
  const key = `soak:${fault}:${topology.options.cluster ? 'cluster' : 'node'}`;
  const r: Run = {
    fault,
    started: Number.POSITIVE_INFINITY,
    tokenRequests: 0,
    slowed: 0,
    afterKill: 0,
    seen: new Set(),
    reused: 0,
    window: undefined,
    killed: undefined,
  };
  run = r;
  const config = {
    redis: topology.options,
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
  await Promise.all(workers.map((w) => w.ready));
  r.started = Date.now();
  if (fault === 'redis') {
    await sleep(4_000);
    const stopped = Date.now();
    await topology.stop();
    await sleep(1_500);
    await topology.start();
    r.window = [stopped, Date.now()];
  }
  const results = (await Promise.all(workers.map((w) => w.done))).filter((x): x is WorkerResult => x !== undefined);
  run = undefined;
  // Lost grant: the stored refresh token no longer works.
  const store = createRedisStore(topology.options);
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
  // Every worker ran @portico/auth from its source, not from a build that may be stale.
  expect(results.map((w) => fileURLToPath(w.auth))).toEqual(results.map(() => SOURCE));
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
    slowedTokenRequests: r.slowed,
    tokenRequestsAfterKill: r.afterKill,
    reusedRefreshTokens: r.reused,
    lostGrants: lost,
  };
  console.log(`soak ${JSON.stringify(summary)}`);
  return { summary, killed: r.killed, outside };
}

const topologies: [string, () => Topology][] = [
  ['one Redis', () => ({ options: { url: redis.url }, stop: () => redis.stop(), start: () => redis.start() })],
  ['a three-node Redis Cluster', () => ({ options: { cluster: cluster.urls }, stop: () => cluster.stop(), start: () => cluster.start() })],
];

describe.each(topologies)('six processes, one grant, %s, rotating refresh tokens', (_name, topology) => {
  it('the lock holder is SIGKILLed: its lease runs out, another process refreshes; nothing reused, nothing lost', async () => {
    const { summary, killed } = await soak('kill', topology());
    expect(killed).toBeDefined();
    expect(summary).toMatchObject({ failed: 0, reusedRefreshTokens: 0, lostGrants: 0 });
    // The grant lived on after the kill: another process took over the renewals.
    expect(summary.tokenRequestsAfterKill).toBeGreaterThan(0);
    expect(summary.tokenRequests).toBeGreaterThan(3);
    expect(summary.tokenRequests).toBeLessThanOrEqual(MOST_TOKEN_REQUESTS);
  });

  it('the token endpoint is slower than the lease: the holder keeps its lease while it waits; nothing reused, nothing lost', async () => {
    const { summary } = await soak('slow', topology());
    expect(summary.slowedTokenRequests).toBeGreaterThan(0);
    expect(summary).toMatchObject({ failed: 0, reusedRefreshTokens: 0, lostGrants: 0 });
    expect(summary.tokenRequests).toBeLessThanOrEqual(MOST_TOKEN_REQUESTS);
  });

  it('Redis is stopped and restarted: calls fail fast with a typed error meanwhile, then go on; nothing reused, nothing lost', async () => {
    const { summary, outside } = await soak('redis', topology());
    // The outage was felt: calls failed during it, and only with the typed error.
    expect(summary.failed).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    expect(summary.failureCodes).toEqual(['token_store_error/redis_unavailable']);
    expect(summary).toMatchObject({ reusedRefreshTokens: 0, lostGrants: 0 });
    expect(summary.tokenRequests).toBeLessThanOrEqual(MOST_TOKEN_REQUESTS);
  });
});
