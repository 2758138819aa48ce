// A synthetic provider spec of any size, for the generation and
// type-checking benchmarks (`pnpm bench`): valid OpenAPI 3.1 that passes the
// repository's lint (redocly.yaml, x-portico-auth included), shaped like a
// real API: resources with list (paginated), create, read, replace and delete
// operations, each resource with its own schemas.
//   tsx tools/synthetic-spec.ts <operations> [out.yaml]   (stdout without out)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

type Json = Record<string, any>;

const TAGS = 10;
const OPS_PER_RESOURCE = 5;

const pascal = (i: number) => `Resource${i}`;

function resourceOps(i: number, tag: string): Json {
  const name = pascal(i);
  const item = `#/components/schemas/${name}`;
  const input = `#/components/schemas/${name}Input`;
  const example = { id: `r${i}_1`, name: `Item ${i}`, amount: 12.5, status: 'active', createdAt: '2024-03-18T14:05:00Z', tags: ['a'] };
  const inputExample = { name: `Item ${i}`, amount: 12.5, status: 'active' };
  const errors = {
    '400': { $ref: '#/components/responses/BadRequest' },
    '401': { $ref: '#/components/responses/Unauthorized' },
    '404': { $ref: '#/components/responses/NotFound' },
  };
  const security = [{ oauth2: ['read'] }];
  const json = (schema: Json, ex: unknown) => ({ 'application/json': { schema, example: ex } });
  const id = { $ref: '#/components/parameters/Id' };
  return {
    [`/resources-${i}`]: {
      get: {
        operationId: `list${name}`,
        summary: `List resource ${i} items`,
        description: `Lists the items of resource ${i}, a page at a time.`,
        tags: [tag],
        security,
        'x-portico-pagination': { style: 'cursor', items: '/items', cursorParam: 'cursor', nextCursor: '/next' },
        parameters: [
          {
            name: 'limit',
            in: 'query',
            description: 'Items per page.',
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            example: 20,
          },
          { name: 'cursor', in: 'query', description: 'Cursor from the previous page.', schema: { type: 'string' }, example: 'c_2' },
          {
            name: 'status',
            in: 'query',
            description: 'Only items in this status.',
            schema: { $ref: '#/components/schemas/Status' },
            example: 'active',
          },
        ],
        responses: {
          '200': {
            description: 'A page of items.',
            content: json(
              {
                type: 'object',
                required: ['items'],
                properties: { items: { type: 'array', items: { $ref: item } }, next: { type: ['string', 'null'] } },
              },
              { items: [example], next: null },
            ),
          },
          ...errors,
        },
      },
      post: {
        operationId: `create${name}`,
        summary: `Create a resource ${i} item`,
        description: `Creates an item of resource ${i}.`,
        tags: [tag],
        security,
        requestBody: { required: true, content: json({ $ref: input }, inputExample) },
        responses: { '201': { description: 'The created item.', content: json({ $ref: item }, example) }, ...errors },
      },
    },
    [`/resources-${i}/{id}`]: {
      parameters: [id],
      get: {
        operationId: `get${name}`,
        summary: `Get a resource ${i} item`,
        description: `Returns one item of resource ${i}.`,
        tags: [tag],
        security,
        parameters: [{ name: 'expand', in: 'query', description: 'Include related objects.', schema: { type: 'boolean' }, example: false }],
        responses: { '200': { description: 'The item.', content: json({ $ref: item }, example) }, ...errors },
      },
      put: {
        operationId: `replace${name}`,
        summary: `Replace a resource ${i} item`,
        description: `Replaces an item of resource ${i}.`,
        tags: [tag],
        security,
        requestBody: { required: true, content: json({ $ref: input }, inputExample) },
        responses: { '200': { description: 'The replaced item.', content: json({ $ref: item }, example) }, ...errors },
      },
      delete: {
        operationId: `delete${name}`,
        summary: `Delete a resource ${i} item`,
        description: `Deletes an item of resource ${i}.`,
        tags: [tag],
        security,
        responses: { '204': { description: 'Deleted.' }, ...errors },
      },
    },
  };
}

function resourceSchemas(i: number): Json {
  const name = pascal(i);
  const input = {
    type: 'object',
    description: `Writable fields of a resource ${i} item.`,
    required: ['name'],
    properties: {
      name: { type: 'string', description: 'Display name.' },
      amount: { type: 'number', description: 'An amount.' },
      status: { $ref: '#/components/schemas/Status' },
      [`field${i}`]: { type: 'string', description: `A field only resource ${i} has.` },
    },
  };
  return {
    [name]: {
      description: `An item of resource ${i}.`,
      allOf: [
        {
          type: 'object',
          required: ['id', 'createdAt'],
          properties: {
            id: { type: 'string', description: 'Identifier.' },
            createdAt: { type: 'string', format: 'date-time', description: 'Creation time.' },
            tags: { type: 'array', items: { type: 'string' }, description: 'Labels.' },
          },
        },
        { $ref: `#/components/schemas/${name}Input` },
      ],
    },
    [`${name}Input`]: input,
  };
}

/** A lint-clean spec with exactly `operations` operations (rounded up to whole resources of 5, then trimmed). */
export function syntheticSpec(operations: number): Json {
  const resources = Math.ceil(operations / OPS_PER_RESOURCE);
  const paths: Json = {};
  const schemas: Json = {
    Status: { type: 'string', enum: ['active', 'archived'], description: 'Lifecycle status.' },
    Error: {
      type: 'object',
      description: 'An error.',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Machine-readable code.' },
        message: { type: 'string', description: 'Human-readable message.' },
      },
    },
  };
  let left = operations;
  for (let i = 1; i <= resources; i++) {
    const ops = resourceOps(i, `Group${((i - 1) % TAGS) + 1}`);
    // Trim the last resource to hit the exact count (delete, put, get, then create).
    const byPath = Object.entries<Json>(ops);
    const drop = Math.max(0, OPS_PER_RESOURCE - left);
    const order: [number, string][] = [
      [1, 'delete'],
      [1, 'put'],
      [1, 'get'],
      [0, 'post'],
    ];
    for (let d = 0; d < drop; d++) delete byPath[order[d]![0]]![1][order[d]![1]];
    for (const [p, item] of byPath) if (Object.keys(item).some((k) => k !== 'parameters')) paths[p] = item;
    left -= OPS_PER_RESOURCE - drop;
    Object.assign(schemas, resourceSchemas(i));
  }
  const errorResponse = (description: string, code: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: { code, message: description } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: `Synthetic API (${operations} operations)`,
      version: '1.0.0',
      description: `A generated API description with ${operations} operations, used to measure lint, generation and type-checking cost as specs grow.`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'https://api.synthetic.portico.dev/v1', description: 'Synthetic server (benchmarks only).' }],
    tags: Array.from({ length: TAGS }, (_, t) => ({ name: `Group${t + 1}`, description: `Resources of group ${t + 1}.` })),
    'x-portico-auth': {
      description: 'OAuth 2.0 client credentials, client authenticated with HTTP Basic.',
      securityScheme: 'oauth2',
      grants: ['client_credentials'],
      token: {
        url: 'https://auth.synthetic.portico.dev/oauth/token',
        clientAuthentication: 'client_secret_basic',
        bodyFormat: 'form',
        grants: { client_credentials: { parameters: { grant_type: 'client_credentials', scope: '{scope}' } } },
        response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in', scope: '/scope' },
        error: { code: '/error', description: '/error_description' },
      },
      scope: { separator: ' ', default: ['read'] },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    },
    paths,
    components: {
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          description: 'OAuth 2.0 client credentials.',
          flows: { clientCredentials: { tokenUrl: 'https://auth.synthetic.portico.dev/oauth/token', scopes: { read: 'Read access.' } } },
        },
      },
      parameters: {
        Id: { name: 'id', in: 'path', required: true, description: 'Item identifier.', schema: { type: 'string' }, example: 'r1_1' },
      },
      responses: {
        BadRequest: errorResponse('The request is malformed.', 'bad_request'),
        Unauthorized: errorResponse('The access token is missing or invalid.', 'unauthorized'),
        NotFound: errorResponse('No such item.', 'not_found'),
      },
      schemas,
    },
  };
}

function main(): void {
  const [count, out] = process.argv.slice(2);
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) {
    console.error('usage: tsx tools/synthetic-spec.ts <operations> [out.yaml]');
    process.exit(2);
  }
  const text = stringify(syntheticSpec(n), { lineWidth: 0, aliasDuplicateObjects: false });
  if (!out) process.stdout.write(text);
  else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
