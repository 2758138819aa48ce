// What the README and `engines` say about runtimes is what this group runs:
// bumping a pinned runtime, or adding a Node.js line, fails here until both
// say so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/lib/specs.ts';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { PUBLISHED, packageDir } from '../install/packing.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('## Runtimes'), readme.indexOf('\n## ', readme.indexOf('## Runtimes') + 1));
const testedMajors = [
  process.versions.node,
  ...Object.entries(RUNTIMES)
    .filter(([name]) => name.startsWith('node'))
    .map(([, r]) => r.version),
]
  .map((version) => Number(version.split('.')[0]))
  .sort((a, b) => a - b);

describe('the runtimes the documentation names are the ones tested', () => {
  it.each(Object.entries(RUNTIMES))('the README runtime table shows the pinned %s', (_name, runtime) => {
    // The version the binary prints: workerd's is its build date.
    expect(table).toContain(runtime.prints.split(' ').at(-1)!.replace(/^v/, ''));
  });

  it.each(['@portico/root', ...PUBLISHED])('%s: engines.node names exactly the tested Node.js lines', (name) => {
    const manifest = JSON.parse(readFileSync(join(name === '@portico/root' ? ROOT : packageDir(name), 'package.json'), 'utf8'));
    const majors = String(manifest.engines?.node)
      .split('||')
      .map((range) => Number(/^\s*\^(\d+)\.\d+\.\d+\s*$/.exec(range)?.[1]));
    expect(majors).toEqual(testedMajors);
  });
});
