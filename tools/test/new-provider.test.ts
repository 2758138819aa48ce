// The road for a new provider, walked the way a user walks it (specs/README.md,
// "Adding a provider"): a small spec that lints, `pnpm new-provider`, a build,
// calls against a loopback API that checks the credential on the wire, and
// the size budget new-provider wrote. Everything happens in a scratch copy of
// the tree (PORTICO_ROOT) in the OS temp dir, removed in afterAll whatever
// happened: nothing is written to the repository and no turbo cache is involved.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { json, LoopbackServer, type RecordedRequest } from '../../packages/testing/src/http.ts';
import { ROOT } from '../lib/specs.ts';
import { bin, env, run, scaffold, scratchTree, typecheckConsumer, writeSpec } from './scratch-tree.ts';

type Flavour = 'api-key-header' | 'api-key-query' | 'api-key-cookie' | 'basic' | 'bearer';
const SCHEMES: Record<Flavour, object> = {
  'api-key-header': { type: 'apiKey', in: 'header', name: 'X-Widget-Key', description: 'The account API key.' },
  'api-key-query': { type: 'apiKey', in: 'query', name: 'key', description: 'The account API key.' },
  'api-key-cookie': { type: 'apiKey', in: 'cookie', name: 'widget_session', description: 'The account API key.' },
  basic: { type: 'http', scheme: 'basic', description: 'Account username and password.' },
  bearer: { type: 'http', scheme: 'bearer', description: 'A personal access token.' },
};
const AUTH: Record<Flavour, Record<string, string>> = {
  'api-key-header': { apiKey: 'widget-key-header-0123456789' },
  'api-key-query': { apiKey: 'widget-key-query-0123456789' },
  'api-key-cookie': { apiKey: 'widget-key-cookie-0123456789' },
  basic: { username: 'widget-user', password: 'widget-password-0123' },
  bearer: { accessToken: 'widget-token-0123456789' },
};
/** What the loopback API accepts for each flavour, read off the wire. */
const CHECKS: Record<Flavour, (r: RecordedRequest) => boolean> = {
  'api-key-header': (r) => r.headers['x-widget-key'] === AUTH['api-key-header'].apiKey && r.headers.authorization === undefined,
  'api-key-query': (r) => r.query.get('key') === AUTH['api-key-query'].apiKey,
  'api-key-cookie': (r) => r.headers.cookie === `widget_session=${AUTH['api-key-cookie'].apiKey}`,
  basic: (r) => r.headers.authorization === `Basic ${Buffer.from('widget-user:widget-password-0123').toString('base64')}`,
  bearer: (r) => r.headers.authorization === 'Bearer widget-token-0123456789',
};

/** A small spec that passes the repository's lint: one authenticated operation and one public one. */
function spec(flavour: Flavour): object {
  const error = {
    description: 'Not authenticated.',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: { message: 'Bad credentials' } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: `Widgets ${flavour} API`,
      version: '1',
      description: `A throwaway API authenticated with ${flavour}.`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'https://api.widgets.example/v1', description: 'Production.' }],
    tags: [{ name: 'Widgets', description: 'Widgets.' }],
    security: [],
    'x-portico-auth': { description: `${flavour} credential.`, securityScheme: 'Credential' },
    paths: {
      '/widgets/{widgetId}': {
        get: {
          operationId: 'getWidget',
          summary: 'Get a widget',
          description: 'One widget by id.',
          tags: ['Widgets'],
          security: [{ Credential: [] }],
          parameters: [
            { name: 'widgetId', in: 'path', required: true, description: 'The widget id.', schema: { type: 'string' }, example: 'w_1' },
          ],
          responses: {
            '200': {
              description: 'The widget.',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/Widget' }, example: { id: 'w_1', name: 'Sprocket' } },
              },
            },
            '401': error,
          },
        },
      },
      '/status': {
        get: {
          operationId: 'getStatus',
          summary: 'Service status',
          description: 'Public: no credential.',
          tags: ['Widgets'],
          security: [],
          responses: {
            '200': {
              description: 'Up.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: { message: 'ok' } } },
            },
            '429': error,
          },
        },
      },
    },
    components: {
      securitySchemes: { Credential: SCHEMES[flavour] },
      schemas: {
        Widget: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
        Error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
      },
    },
  };
}

const FLAVOURS = Object.keys(SCHEMES) as Flavour[];
let tmp: string;
let api: CheckingApi;

class CheckingApi extends LoopbackServer {
  flavour: Flavour = 'bearer';
  constructor() {
    super();
    this.route('GET /v1/widgets/w_1', (r) =>
      CHECKS[this.flavour](r) ? json(200, { id: 'w_1', name: 'Sprocket' }) : json(401, { message: 'Bad credentials' }),
    );
    this.route('GET /v1/status', (r) =>
      json(200, { message: r.headers.authorization || r.headers.cookie || r.query.size ? 'credential seen' : 'ok' }),
    );
  }
}

async function lint(file: string): Promise<string | undefined> {
  try {
    await run(bin('redocly'), ['lint', file, '--format=stylish', '--config', join(ROOT, 'redocly.yaml')], { cwd: ROOT, env });
    return undefined;
  } catch (e: any) {
    return `${e.stdout}${e.stderr}`;
  }
}

/** The budgets in the repository's .size-limit.js: where a new provider's budget starts. */
const largestBudget = Math.max(
  ...Object.values<string>((await import(pathToFileURL(join(ROOT, '.size-limit.js')).href)).budgets).map(
    (kb) => Number.parseFloat(kb) * 1000,
  ),
);

/** size-limit on the scratch tree's .size-limit.js, narrowed to one package (the others are not in the scratch tree). */
async function size(slug: string): Promise<{ passed: boolean; limit: number }> {
  const config = join(tmp, `size-limit.${slug}.mjs`);
  writeFileSync(config, `import all from './.size-limit.js';\nexport default all.filter((entry) => entry.name === '@portico/${slug}');\n`);
  const { stdout } = await run(bin('size-limit'), ['--json', '--config', config], { cwd: tmp }).catch(
    (e: { stdout: string; stderr: string }) => {
      throw new Error(`size-limit failed: ${e.stdout}${e.stderr}`);
    },
  );
  const results = JSON.parse(stdout) as { name: string; passed: boolean; size: number; sizeLimit: number }[];
  expect(results.map((r) => r.name)).toEqual([`@portico/${slug}`]);
  expect(results[0]!.size).toBeGreaterThan(1000);
  return { passed: results[0]!.passed, limit: results[0]!.sizeLimit };
}

beforeAll(async () => {
  tmp = scratchTree('portico-new-provider-');
  api = await new CheckingApi().start();
});
afterAll(async () => {
  await api?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('pnpm new-provider, for each credential flavour', () => {
  it.each(FLAVOURS)(
    '%s: lints, scaffolds, builds, fits its size budget and calls the API with the credential on the wire',
    async (flavour) => {
      const slug = `widgets-${flavour}`;
      expect(await lint(writeSpec(tmp, slug, stringify(spec(flavour))))).toBeUndefined();

      const pkg = await scaffold(tmp, slug);
      expect(readFileSync(join(tmp, 'redocly.yaml'), 'utf8')).toContain(`root: specs/${slug}/openapi.yaml`);
      expect(readFileSync(join(tmp, '.size-limit.js'), 'utf8')).toMatch(new RegExp(`'${slug}': '[\\d.]+ kB',`));
      await run(bin('tsc'), ['-p', join(pkg, 'tsconfig.json')], { cwd: pkg });
      expect(await size(slug)).toEqual({ passed: true, limit: largestBudget });

      const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
      expect(readme).toContain(`createClient({ auth: { ${Object.keys(AUTH[flavour])[0]}: process.env.`);
      expect(readme).toContain("client.GET('/widgets/{widgetId}', { params: { path: { widgetId: 'w_1' } } })");

      const mod = await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href);
      api.flavour = flavour;
      api.reset();
      const client = mod.createClient({ baseUrl: `${api.url}/v1`, auth: AUTH[flavour] });
      const { data, error } = await client.GET('/widgets/{widgetId}', { params: { path: { widgetId: 'w_1' } } });
      expect(error).toBeUndefined();
      expect(data).toEqual({ id: 'w_1', name: 'Sprocket' });
      expect((await client.GET('/status')).data).toEqual({ message: 'ok' });
      // A wrong credential is the API's 401, returned as the typed error body.
      const wrong = mod.createClient({
        baseUrl: `${api.url}/v1`,
        auth: Object.fromEntries(Object.entries(AUTH[flavour]).map(([k, v]) => [k, `${v}-wrong`])),
      });
      expect((await wrong.GET('/widgets/{widgetId}', { params: { path: { widgetId: 'w_1' } } })).error).toEqual({
        message: 'Bad credentials',
      });
      // The input type is the flavour's: another flavour's credential does not compile.
      const other = flavour === 'bearer' ? '{ apiKey: "k" }' : '{ accessToken: "t" }';
      expect(
        await typecheckConsumer(
          pkg,
          `import { createClient } from './dist/index.js';\ncreateClient({ auth: ${JSON.stringify(AUTH[flavour])} });\n// @ts-expect-error another flavour's credential\ncreateClient({ auth: ${other} });\n`,
        ),
      ).toBe('');
    },
  );

  it('lint refuses a grant-less profile on an OAuth scheme, and apply beside an API key', async () => {
    const oauth = spec('bearer') as any;
    oauth.components.securitySchemes.Credential = {
      type: 'oauth2',
      description: 'OAuth.',
      flows: { clientCredentials: { tokenUrl: 'https://api.widgets.example/token', scopes: {} } },
    };
    const key = spec('api-key-header') as any;
    key['x-portico-auth'].apply = { header: 'X-Widget-Key', scheme: '' };
    const half = spec('bearer') as any;
    half['x-portico-auth'].token = { url: '/token' };
    const dir = mkdtempSync(join(tmpdir(), 'portico-lint-credential-'));
    try {
      const out: string[] = [];
      for (const [name, doc] of Object.entries({ oauth, key, half })) {
        writeFileSync(join(dir, `${name}.yaml`), stringify(doc));
        out.push((await lint(join(dir, `${name}.yaml`))) ?? '');
      }
      expect(out[0]).toMatch(/needs an apiKey, http basic or http bearer scheme; `Credential` is oauth2/);
      expect(out[1]).toContain('x-portico-auth.apply does not go with an apiKey scheme');
      expect(out[2]).toMatch(/x-portico-auth must have property grants when property token is present/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
