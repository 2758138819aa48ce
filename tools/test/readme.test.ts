// The code in each provider README is what users copy first: it must compile
// against the package as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProviders, ROOT } from '../lib/specs.ts';
import { prelude, typecheck } from './typecheck.ts';

function snippets(slug: string): string {
  const readme = readFileSync(join(ROOT, 'packages', slug, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README examples compile', () => {
  it.each(listProviders())('%s', (slug) => {
    const file = join(ROOT, 'packages', slug, `README.example.ts`);
    const problems = typecheck({ [file]: `${prelude(slug)}\n${snippets(slug)}\nexport {};\n` });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
