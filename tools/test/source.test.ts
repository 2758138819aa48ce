// Tests test the source: with no build step, a change in packages/runtime/src
// must reach the runtime suite. Before the `@portico/source` export condition,
// a plain `vitest run` passed with POST made retryable until `dist` was rebuilt.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ROOT } from '../lib/specs.ts';

const run = promisify(execFile);

/** The idempotent-method set: a `new Set([...])` naming GET and PUT but not POST. */
function idempotentMethodSet(): { file: string; from: string; to: string } {
  const dir = join(ROOT, 'packages/runtime/src');
  const found = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => {
      const file = join(dir, name);
      return [...readFileSync(file, 'utf8').matchAll(/new Set\(\[([^\]]*)\]/g)]
        .filter((m) => /'GET'/.test(m[1]!) && /'PUT'/.test(m[1]!) && !/'POST'/.test(m[1]!))
        .map((m) => ({ file, from: m[0], to: m[0].replace('[', "['POST', ") }));
    });
  // More or fewer than one means the runtime changed shape: point the mutation at the new place.
  expect(found.map((f) => f.file)).toHaveLength(1);
  return found[0]!;
}

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { title: string; status: string }[] }[];
}

describe('vitest resolves workspace packages to their source', () => {
  it('every export of every workspace package maps @portico/source to a file in src, listed first', () => {
    const problems: string[] = [];
    for (const folder of readdirSync(join(ROOT, 'packages'))) {
      const file = join(ROOT, 'packages', folder, 'package.json');
      if (!existsSync(file)) continue;
      const { name, exports } = JSON.parse(readFileSync(file, 'utf8'));
      for (const [subpath, target] of Object.entries<string | Record<string, string>>(exports ?? {})) {
        // A plain string export is one file for everyone: the test-only package's src, or package.json.
        if (typeof target === 'string') continue;
        const source = target['@portico/source'];
        if (Object.keys(target)[0] !== '@portico/source' || !source?.startsWith('./src/'))
          problems.push(`${name} ${subpath}: no @portico/source first`);
        else if (!existsSync(join(ROOT, 'packages', folder, source))) problems.push(`${name} ${subpath}: ${source} does not exist`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the runtime suite fails, with no build, when POST is made retryable in packages/runtime/src', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'portico-mutation-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    const output = join(tmp, 'report.json');
    // Vitest marks its workers through these; the child is a fresh top-level run.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const args = ['run', '--config', join(ROOT, 'tools/test/mutation.config.ts'), '--reporter=json', `--outputFile=${output}`];
    const exit = await run(join(ROOT, 'node_modules/.bin/vitest'), args, {
      cwd: ROOT,
      env: { ...env, PORTICO_MUTATION: JSON.stringify(idempotentMethodSet()) },
      timeout: 300_000,
      maxBuffer: 64 << 20,
    }).then(
      () => 0,
      (e) => (e.killed ? 'killed' : e.code),
    );
    expect(exit).toBe(1);
    const report: Report = JSON.parse(readFileSync(output, 'utf8'));
    const failed = report.testResults
      .flatMap((f) => f.assertionResults)
      .filter((t) => t.status === 'failed')
      .map((t) => t.title);
    // Only the POST retry tests fail: the providers' clients and the tests share
    // one runtime module (resolved to dist, its error classes would differ from
    // the ones the tests import from src, and dozens of unrelated tests fail).
    expect(report.numPassedTests).toBeGreaterThan(100);
    expect(failed).toEqual(
      expect.arrayContaining(['a plain POST is not retried after a reset', 'a plain POST that times out is not retried']),
    );
    expect(failed.filter((title) => !title.includes('POST'))).toEqual([]);
  }, 360_000);
});
