// A token endpoint on 127.0.0.1 that rotates refresh tokens (RT1, RT2, …,
// each answer with a fresh access token ATn living an hour) and revokes the
// grant once a refresh token is presented twice, as a provider with reuse
// detection does. It records every refresh token presented, in order, and can
// hold its answers back: for tests of what happens while a refresh is out.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RotatingTokenServer {
  readonly url: string;
  /** Every refresh token presented, in order. */
  readonly presented: readonly string[];
  /** Refresh tokens presented more than once: each of them revoked the grant. */
  spentTwice(): string[];
  /** Answers wait from now on (a request already answered is not called back) until `release()`. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/** The first token set of the grant, already expired: the next call refreshes RT1. */
export function expiredRotatingTokens() {
  return { accessToken: 'AT1-0123456789', tokenType: 'Bearer', refreshToken: 'RT1-0123456789', expiresAt: Date.now() - 1_000, raw: {} };
}

/** What a flow on `server`'s grant is made with, beside Finexer's profile (rotating refresh tokens with reuse detection): its client and token endpoint. */
export function rotatingFlowOptions(server: RotatingTokenServer, timeoutMs: number) {
  return {
    clientId: 'cid',
    clientSecret: 'secret-0123456789',
    redirectUri: 'https://app.example/cb',
    tokenUrl: `${server.url}/token`,
    timeoutMs,
  };
}

/** `delayMs`: how long each good answer takes. */
export async function startRotatingTokenServer(delayMs = 0): Promise<RotatingTokenServer> {
  const presented: string[] = [];
  let n = 1;
  let current = 'RT1-0123456789';
  let revoked = false;
  let gate: { open: Promise<void>; release: () => void } | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const rt = new URLSearchParams(body).get('refresh_token') ?? '';
      presented.push(rt);
      res.setHeader('content-type', 'application/json');
      if (rt !== current || revoked) {
        revoked = true;
        res.statusCode = 400;
        return res.end(JSON.stringify({ error: 'invalid_grant' }));
      }
      current = `RT${++n}-0123456789`;
      const answer = { access_token: `AT${n}-0123456789`, token_type: 'Bearer', refresh_token: current, expires_in: 3600 };
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await gate?.open;
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    presented,
    spentTwice: () => [...new Set(presented.filter((rt, i) => presented.indexOf(rt) !== i))],
    hold() {
      let release!: () => void;
      gate = { open: new Promise<void>((resolve) => (release = resolve)), release };
    },
    release() {
      gate?.release();
      gate = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        gate?.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
