// The providers' auth profiles, read from each spec's `x-portico-auth`, so the
// tests run on the data the generated packages ship. The providers are the
// directories of specs/ that hold an openapi.yaml: a new provider's spec is
// picked up with no list to edit.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { AuthProfile } from '../../auth/src/profile.js';

const SPECS = fileURLToPath(new URL('../../../specs/', import.meta.url));

export const specPath = (slug: string): string => join(SPECS, slug, 'openapi.yaml');

/** Every provider with a spec, in name order. */
export const PROVIDERS: readonly string[] = readdirSync(SPECS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(specPath(entry.name)))
  .map((entry) => entry.name)
  .sort();

/** The provider's `x-portico-auth`, as its spec writes it. */
export function loadProfile(slug: string): { profile: AuthProfile } {
  const file = specPath(slug);
  if (!existsSync(file)) throw new Error(`no spec for ${slug}: ${file} does not exist (providers: ${PROVIDERS.join(', ')})`);
  const document = parse(readFileSync(file, 'utf8')) as { 'x-portico-auth'?: AuthProfile } | null;
  const profile = document?.['x-portico-auth'];
  if (profile === undefined) throw new Error(`${file} has no x-portico-auth`);
  return { profile };
}
