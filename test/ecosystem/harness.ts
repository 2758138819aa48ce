// One ecosystem suite, the same on every runtime: start the loopback
// emulators, run consumer/scenario.mjs on the runtime against them, then
// check each step from both sides: what the program saw, and what the
// emulators received.
import { createHash, createHmac } from 'node:crypto';
import type { BuildOptions } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bearerOf,
  formOf,
  json,
  type RecordedRequest,
  type Reply,
  startDexeroFd,
  startExpertFile,
  startFdx,
} from '../../packages/testing/src/index.ts';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { childEnv, run } from './setup.ts';

/** esbuild options of an edge bundle, as Wrangler sets them: neutral platform, the edge's export conditions, no Node.js polyfills. */
export const EDGE_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
  target: 'es2022',
  logLevel: 'silent',
} satisfies BuildOptions;

type StepResult = { ok: true; value: any } | { ok: false; error: unknown };
export type Results = Record<string, StepResult>;

/** Runs the scenario on one runtime, in the installed consumer project, and returns its results. */
export type Runner = (consumer: string, config: object) => Promise<Results>;

/** Runs `args` with `bin` in the consumer project; the last line of its output is the scenario's results. */
export async function runProcess(consumer: string, bin: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Results> {
  const out = await run(consumer, bin, args, childEnv(consumer, extraEnv), 120_000);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Results;
}

const REDIRECT_URI = 'https://app.example/callback';
const WEBHOOK_SECRET = 'whsec_finexer_ecosystem_0123456789';

// ExpertFile: offset paging over seven experts.
const EXPERTS = Array.from({ length: 7 }, (_, i) => ({ username: `expert${i + 1}`, tagline: `Expert ${i + 1}` }));

// Dexero FD in XML; element order and escapes as the provider writes them.
const RECORDS_XML = `<?xml version="1.0" encoding="UTF-8"?>
<recordList><records><record id="1024"><type>individual</type><firstName>Marie</firstName><lastName>Tremblay</lastName><active>true</active><address><street>123 rue Saint-Jean</street><city>Québec</city><province>QC</province><postalCode>G1R 1N4</postalCode><country>CA</country></address></record><record id="7"><type>organization</type><organizationName>Smith &amp; &lt;Sons&gt;</organizationName><active>false</active></record></records></recordList>`;
const RECORDS = {
  records: [
    {
      id: 1024,
      type: 'individual',
      firstName: 'Marie',
      lastName: 'Tremblay',
      active: true,
      address: { street: '123 rue Saint-Jean', city: 'Québec', province: 'QC', postalCode: 'G1R 1N4', country: 'CA' },
    },
    { id: 7, type: 'organization', organizationName: 'Smith & <Sons>', active: false },
  ],
};

const WEBHOOK_EVENT = {
  id: 'evt_8KtR3wPz1NcY5d',
  type: 'consent.accepted',
  data: { object: { id: 'con_1', object: 'consent', status: 'authorized' } },
};

function signedWebhook() {
  const body = JSON.stringify(WEBHOOK_EVENT);
  const t = new Date().toISOString();
  return {
    body,
    signature: `t=${t};s=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`,
    secret: WEBHOOK_SECRET,
  };
}

const grantOf = (request: RecordedRequest) => formOf(request)?.get('grant_type');

/** The ecosystem suite of one runtime: `label` names it in the output, `runner` runs the scenario on it. */
export function ecosystemSuite(label: string, runner: Runner): void {
  describe(`ecosystem: ${label}`, () => {
    let emulators: {
      ef: Awaited<ReturnType<typeof startExpertFile>>;
      fdx: Awaited<ReturnType<typeof startFdx>>;
      fd: Awaited<ReturnType<typeof startDexeroFd>>;
    };
    let results: Results;

    beforeAll(async () => {
      const [ef, fdx, fd] = await Promise.all([startExpertFile(), startFdx({ redirectUris: [REDIRECT_URI] }), startDexeroFd()]);
      emulators = { ef, fdx, fd };
      const unauthorized: Reply = json(401, { success: false, msg: 'Unauthorized' });
      ef.inject(
        `GET /v2/organization/${ef.organization}/expert`,
        (request) => {
          if (!ef.tokens.isValid(bearerOf(request))) return unauthorized;
          const from = Number(request.query.get('page_from') ?? 0);
          const size = Number(request.query.get('page_size') ?? 10);
          return json(200, { success: true, data: { experts: EXPERTS.slice(from, from + size), total: EXPERTS.length } });
        },
        { times: Number.POSITIVE_INFINITY },
      );
      fdx.inject('GET /fdx/v4/accounts/broken', {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"accountId": "broken", "accountType": ',
      });
      fd.inject('GET /services/v6/rest/records.xml', (request) =>
        fd.tokens.isValid(bearerOf(request))
          ? { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: RECORDS_XML }
          : json(401, { error: 'invalid_token' }),
      );
      const config = {
        expertfile: {
          apiBaseUrl: ef.apiBaseUrl,
          tokenUrl: ef.tokenUrl,
          clientId: ef.clientId,
          clientSecret: ef.clientSecret,
          organization: ef.organization,
        },
        fdx: {
          apiBaseUrl: fdx.apiBaseUrl,
          authBaseUrl: fdx.authBaseUrl,
          clientId: fdx.clientId,
          clientSecret: fdx.clientSecret,
          redirectUri: REDIRECT_URI,
        },
        dexeroFd: { apiBaseUrl: fd.apiBaseUrl, tokenUrl: fd.tokenUrl, clientId: fd.clientId, clientSecret: fd.clientSecret },
        webhook: signedWebhook(),
      };
      results = await runner(inject('consumer'), config);
      const passed = Object.values(results).filter((r) => r.ok).length;
      console.log(`ecosystem: ${label}: ${passed} of ${Object.keys(results).length} scenario steps ran without an error`);
    }, 180_000);

    afterAll(async () => {
      if (emulators) await Promise.all(Object.values(emulators).map((server) => server.close()));
    });

    /** The step's value; a step that threw fails here, showing the error and its causes. */
    const value = (step: string) => {
      const result = results[step];
      expect(result, `${step} did not run`).toBeDefined();
      if (!result!.ok) expect.fail(`${step} threw ${JSON.stringify(result!.error, null, 2)}`);
      return result!.value;
    };

    it('client credentials (ExpertFile): the token is fetched once, cached, and sent on each call', () => {
      const { ef } = emulators;
      expect(value('clientCredentials')).toEqual({ statuses: [200, 200], experts: ['expert1', 'expert2'] });
      expect(ef.count('POST /v2/oauth/token')).toBe(1);
      const sent = ef.requests.filter((r) => r.path === `/v2/organization/${ef.organization}/expert`).map((r) => bearerOf(r));
      expect(sent.length).toBeGreaterThanOrEqual(2);
      expect(new Set(sent).size).toBe(1);
      expect(ef.tokens.isValid(sent[0])).toBe(true);
    });

    it('pagination (ExpertFile offset paging): every page is walked, each asked for once', () => {
      const { ef } = emulators;
      expect(value('pagination')).toEqual({ usernames: EXPERTS.map((e) => e.username) });
      const pages = ef.requests.filter((r) => r.path === `/v2/organization/${ef.organization}/expert` && r.query.get('page_size') === '3');
      expect(pages.map((r) => r.query.get('page_from'))).toEqual([null, '3', '6']);
    });

    it('authorization code with PKCE S256 (FDX), then a refresh that rotates the refresh token; the spent one is refused', () => {
      const { fdx } = emulators;
      expect(value('authorizationCode')).toEqual({
        challengeMethod: 'S256',
        verifierLength: expect.any(Number),
        customerId: 'cust-0001',
        saved: 1,
        rotated: true,
        newAccessToken: true,
        reuse: expect.objectContaining({
          isReauthorizationRequired: true,
          portico: true,
          code: 'reauthorization_required',
          cause: expect.objectContaining({ name: 'OAuthError', code: 'oauth_error', error: 'invalid_grant', status: 400 }),
        }),
      });
      const authorize = fdx.requests.find((r) => r.path === '/oauth2/v4/authorize')!;
      const tokenRequests = fdx.requests.filter((r) => r.path === '/oauth2/v4/token');
      expect(tokenRequests.map(grantOf)).toEqual(['authorization_code', 'refresh_token', 'refresh_token']);
      const verifier = formOf(tokenRequests[0]!)!.get('code_verifier')!;
      expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
      expect(createHash('sha256').update(verifier).digest('base64url')).toBe(authorize.query.get('code_challenge'));
      // The second refresh is the program replaying the first refresh token: refused above.
      expect(formOf(tokenRequests[2]!)!.get('refresh_token')).toBe(formOf(tokenRequests[1]!)!.get('refresh_token'));
      const customer = fdx.requests.find((r) => r.path === '/fdx/v4/customers/current')!;
      expect(fdx.tokens.isValid(bearerOf(customer))).toBe(true);
    });

    it('a 404 is a typed NotFoundError', () => {
      expect(value('notFound')).toMatchObject({
        isNotFoundError: true,
        portico: true,
        name: 'NotFoundError',
        code: 'not_found',
        status: 404,
      });
    });

    it('a malformed JSON body is a typed ResponseParseError', () => {
      expect(value('malformedBody')).toMatchObject({
        isResponseParseError: true,
        portico: true,
        name: 'ResponseParseError',
        code: 'response_parse_error',
        status: 200,
      });
    });

    it('Finexer webhook: the signed delivery verifies, a tampered body is refused', () => {
      expect(value('webhook')).toEqual({
        event: WEBHOOK_EVENT,
        tampered: expect.objectContaining({
          isWebhookVerificationError: true,
          portico: true,
          code: 'webhook_verification_failed',
          reason: 'signature_mismatch',
        }),
      });
    });

    it('Dexero FD: the XML response decodes to the typed object', () => {
      expect(value('xml')).toStrictEqual(RECORDS);
      expect(emulators.fd.count('POST /oauth/token.action')).toBe(1);
    });
  });
}

/** The suite on one of the pinned Node.js binaries of tools/runtimes.mjs. */
export function pinnedNodeSuite(line: 'node22' | 'node24' | 'node26'): void {
  ecosystemSuite(`Node.js ${RUNTIMES[line].version}`, (consumer, config) =>
    runProcess(consumer, inject('runtimes')[line]!, ['main.mjs', JSON.stringify(config)]),
  );
}
