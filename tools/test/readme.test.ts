// The code in each provider README is what users copy first: it must compile
// against the package as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProviders, ROOT } from '../lib/specs.ts';
import { prelude, typecheck } from './typecheck.ts';

/** The README's TypeScript blocks: the snippets a reader pastes into one program, and the test files (they import vitest) that stand alone. */
function blocks(slug: string): { snippets: string; tests: string[] } {
  const readme = readFileSync(join(ROOT, 'packages', slug, 'README.md'), 'utf8');
  const all = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const isTest = (block: string) => /^import [^;]* from 'vitest';$/m.test(block);
  return { snippets: all.filter((b) => !isTest(b)).join('\n'), tests: all.filter(isTest) };
}

describe('README examples compile', () => {
  it.each(listProviders())('%s', (slug) => {
    const file = join(ROOT, 'packages', slug, `README.example.ts`);
    const problems = typecheck({ [file]: `${prelude(slug)}\n${blocks(slug).snippets}\nexport {};\n` });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  // The runtime's README (its OpenTelemetry setup, NodeSDK with OTLP exporters): the blocks as one program, as a user of a
  // provider package writes it, so it is checked from one (dexero-fd, which it imports; the SDK's types from the root's devDependencies).
  it('@portico/runtime: the OpenTelemetry setup', () => {
    const readme = readFileSync(join(ROOT, 'packages', 'runtime', 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets.join('\n')).toContain("from '@portico/runtime/telemetry'");
    const file = join(ROOT, 'packages', 'dexero-fd', 'README.runtime.example.ts');
    const problems = typecheck({ [file]: `${snippets.join('\n')}\nexport {};\n` });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  // A user's test file as it is, no prelude: resolved from packages/cli, which depends on every provider package and on @portico/mock.
  it.each(listProviders())('%s: "Testing your integration" is a vitest file that compiles on its own', (slug) => {
    const { tests } = blocks(slug);
    expect(tests.length, 'the README has a vitest example').toBe(1);
    for (const source of tests) expect(source).toContain("from '@portico/mock'");
    const files = Object.fromEntries(tests.map((source, i) => [join(ROOT, 'packages/cli', `${slug}.readme-${i}.test.ts`), source]));
    const problems = typecheck(files);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
