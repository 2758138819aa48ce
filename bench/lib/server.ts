// Loopback HTTP server for the real-HTTP and single-flight benches, run as
// its own process (so it has the other core): answers the API with small
// canned JSON, and the token endpoint after TOKEN_LATENCY_MS. Binds to
// 127.0.0.1 only; exits when its parent closes stdin.
//   node bench/lib/server.ts  (prints {"port":N} on stdout)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const TOKEN_LATENCY_MS = Number(process.env.TOKEN_LATENCY_MS ?? 5);
const SEARCH_BODY = process.env.SEARCH_BODY ?? '{}';
const CUSTOMER_BODY = JSON.stringify({ id: 'cus_9s6XKzkNRiz8i3', object: 'customer', name: 'Jane Smith', email: 'jane.smith@example.com' });
let tokenRequests = 0;
let connections = 0;
let issued = 0;

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/__stats')) {
    const body = JSON.stringify({ tokenRequests, connections });
    if (url.includes('reset')) {
      tokenRequests = 0;
      connections = 0;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (url.startsWith('/oauth/')) {
      tokenRequests++;
      issued++;
      const body = JSON.stringify({
        access_token: `loopback_token_${issued}_abcdef0123456789`,
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: `loopback_refresh_${issued}`,
        scope: 'read',
      });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
        res.end(body);
      }, TOKEN_LATENCY_MS);
      return;
    }
    if (!req.headers.authorization) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"message":"no token"}');
      return;
    }
    const body = url.startsWith('/customers/') ? CUSTOMER_BODY : SEARCH_BODY;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => connections++);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
