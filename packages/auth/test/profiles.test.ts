// The auth profiles the tests run on, the specs' `x-portico-auth`, valid
// against the JSON Schema that lint uses.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadProfile, PROVIDERS } from '@portico/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

const schema = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../tools/schema/x-portico-auth.schema.json', import.meta.url)), 'utf8'),
) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

describe('auth profiles', () => {
  it.each(PROVIDERS)('%s: the profile in use validates against x-portico-auth.schema.json', (slug) => {
    const { profile } = loadProfile(slug);
    expect(validate(profile) ? [] : validate.errors).toEqual([]);
  });

  it('the providers are the specs/ directories with an openapi.yaml', () => {
    const specs = readdirSync(fileURLToPath(new URL('../../../specs/', import.meta.url)), { withFileTypes: true }).filter((d) =>
      d.isDirectory(),
    );
    expect(PROVIDERS).toEqual(specs.map((d) => d.name).sort());
    expect(PROVIDERS).toContain('dexero-fd');
    expect(() => loadProfile('no-such-provider')).toThrow(/no spec for no-such-provider/);
  });

  it('no provider name appears in the shared auth code', () => {
    const sources = [
      'authenticator',
      'credentials',
      'deadline',
      'endpoint',
      'errors',
      'flow',
      'grants',
      'index',
      'internal',
      'lifecycle',
      'limited',
      'pkce',
      'pointer',
      'profile',
      'redact',
      'store',
      'tokens',
      'url',
    ].map((f) => readFileSync(fileURLToPath(new URL(`../src/${f}.ts`, import.meta.url)), 'utf8').toLowerCase());
    for (const name of ['dexero', 'finexer', 'fdx', 'expertfile', 'dapi', ' mx '])
      for (const source of sources) expect(source).not.toContain(name);
  });
});
