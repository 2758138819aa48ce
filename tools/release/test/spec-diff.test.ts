// The spec classifier on fixture pairs (fixtures/base.yaml against one
// changed copy each), then on single-rule edits of the same base.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Json, listProviders, loadSpec } from '../../lib/specs.ts';
import { type Bump, diffSpecs, highest } from '../spec-diff.ts';

const fixture = (name: string): Json => parse(readFileSync(new URL(`./fixtures/${name}.yaml`, import.meta.url), 'utf8'));
const base = fixture('base');
let classified = 0;

function classify(head: Json) {
  const changes = diffSpecs(base, head);
  classified++;
  return { bump: highest(changes), text: changes.map((c) => `${c.bump}: ${c.where} — ${c.what}`).join('\n') };
}

describe('spec change classification: fixture pairs', () => {
  it.each<[string, Bump, RegExp]>([
    ['removed-endpoint', 'major', /^major: GET \/accounts\/\{accountId\} — operation removed$/m],
    ['required-parameter', 'major', /^major: GET \/accounts: query parameter region — added, required$/m],
    ['optional-parameter', 'minor', /^minor: GET \/accounts: query parameter region — added, optional$/m],
    [
      'response-field',
      'minor',
      /^minor: GET \/accounts\/\{accountId\}: response 200 \(application\/json\)\.openedAt — added to the response$/m,
    ],
    ['description-only', 'patch', /^patch: GET \/accounts\/\{accountId\} — description changed$/m],
    ['auth-profile', 'major', /^major: auth profile \(x-portico-auth\) — \/token\/clientAuthentication changed/m],
  ])('%s → %s', (name, bump, line) => {
    const { bump: got, text } = classify(fixture(name));
    expect(got, text).toBe(bump);
    expect(text).toMatch(line);
  });
});

const edit = (change: (doc: Json) => void): Json => {
  const doc = structuredClone(base);
  change(doc);
  return doc;
};
const account = (doc: Json) => doc.components.schemas.Account;
const createBody = (doc: Json) => doc.paths['/accounts'].post.requestBody.content['application/json'].schema;

describe('spec change classification: one rule each', () => {
  it.each<[string, (doc: Json) => void, Bump | undefined, RegExp]>([
    ['no change', () => {}, undefined, /^$/],
    [
      'examples only',
      (d) => (d.paths['/accounts'].get.responses['200'].content['application/json'].example = { accounts: [] }),
      'patch',
      /example changed/,
    ],
    ['response enum value added', (d) => account(d).properties.status.enum.push('frozen'), 'minor', /enum value "frozen" added/],
    ['response enum value removed', (d) => account(d).properties.status.enum.pop(), 'major', /enum value "closed" removed/],
    ['response field removed', (d) => delete account(d).properties.nickname, 'major', /\.nickname — removed from the response/],
    ['response field may be absent', (d) => (account(d).required = ['id']), 'major', /\.status — may now be absent/],
    ['response field became nullable', (d) => (account(d).properties.nickname.type = ['string', 'null']), 'major', /may now be null/],
    [
      'request field became required',
      (d) => createBody(d).required.push('currency'),
      'major',
      /request body \(application\/json\)\.currency — became required/,
    ],
    [
      'optional request field added',
      (d) => (createBody(d).properties.label = { type: 'string' }),
      'minor',
      /\.label — added to the request, optional/,
    ],
    ['request field type narrowed', (d) => (createBody(d).properties.name.maxLength = 20), 'major', /maxLength tightened/],
    [
      'parameter type narrowed',
      (d) => (d.paths['/accounts'].get.parameters[0].schema.maximum = 50),
      'major',
      /maximum tightened \(100 → 50\)/,
    ],
    ['parameter constraint relaxed', (d) => (d.paths['/accounts'].get.parameters[0].schema.maximum = 500), 'minor', /maximum relaxed/],
    [
      'operation added',
      (d) => (d.paths['/accounts/{accountId}'].delete = { ...d.paths['/accounts/{accountId}'].get, operationId: 'closeAccount' }),
      'minor',
      /DELETE \/accounts\/\{accountId\} — operation added/,
    ],
    [
      'scope removed',
      (d) => delete d.components.securitySchemes.oauth2.flows.clientCredentials.scopes.write,
      'major',
      /scope write removed/,
    ],
    ['default server moved', (d) => (d.servers = [{ url: 'https://api2.fixture.example/v1' }]), 'major', /default server changed/],
    [
      'auth profile description only',
      (d) => (d['x-portico-auth'].description = 'Client credentials.'),
      'patch',
      /auth profile \(x-portico-auth\) — description changed/,
    ],
    [
      'webhook added',
      (d) =>
        (d.webhooks = {
          'account.closed': {
            post: {
              operationId: 'accountClosed',
              requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Account' } } } },
            },
          },
        }),
      'minor',
      /webhook account\.closed — added/,
    ],
    [
      'path item description',
      (d) => (d.paths['/accounts'].description = 'Accounts.'),
      'patch',
      /^patch: \/accounts — description changed$/m,
    ],
    ['unknown extension', (d) => (d['x-portico-something'] = true), 'major', /x-portico-something changed \(not classified/],
  ])('%s', (_name, change, bump, pattern) => {
    const { bump: got, text } = classify(edit(change));
    expect(got, text).toBe(bump);
    expect(text).toMatch(pattern);
  });

  it.each(listProviders())('the real %s spec compared with itself has no change', (slug) => {
    const doc = loadSpec(slug);
    expect(diffSpecs(doc, structuredClone(doc))).toEqual([]);
  });
});

afterAll(() => console.log(`release: ${classified} spec changes classified (6 fixture pairs, ${classified - 6} single-rule edits)`));
