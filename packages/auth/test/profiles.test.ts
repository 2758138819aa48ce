// The auth profiles the tests run on: the specs' `x-portico-auth` when the spec
// exists, else the fixture, all valid against the JSON Schema that lint uses.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { fixtureProfiles, loadProfile, PROVIDERS, specPath } from '@portico/testing';

const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../../tools/schema/x-portico-auth.schema.json', import.meta.url)), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

describe('auth profiles', () => {
  it.each(PROVIDERS)('%s: the profile in use validates against x-portico-auth.schema.json', (slug) => {
    const { profile } = loadProfile(slug);
    expect(validate(profile) ? [] : validate.errors).toEqual([]);
  });

  it.each(PROVIDERS)('%s: comes from its specs/<slug>/openapi.yaml whenever that file exists', (slug) => {
    expect(loadProfile(slug).source).toBe(existsSync(specPath(slug)) ? 'spec' : 'fixture');
  });

  it.each(PROVIDERS)('%s: the fixture validates too', (slug) => {
    expect(validate(fixtureProfiles[slug]) ? [] : validate.errors).toEqual([]);
  });

  it('no provider name appears in the shared auth code', () => {
    const sources = ['authenticator', 'credentials', 'deadline', 'endpoint', 'errors', 'flow', 'grants', 'index', 'internal', 'lifecycle', 'limited', 'pkce', 'pointer', 'profile', 'redact', 'store', 'tokens', 'url'].map((f) =>
      readFileSync(fileURLToPath(new URL(`../src/${f}.ts`, import.meta.url)), 'utf8').toLowerCase(),
    );
    for (const name of ['dexero', 'finexer', 'fdx', 'expertfile', 'dapi', ' mx ']) for (const source of sources) expect(source).not.toContain(name);
  });
});
