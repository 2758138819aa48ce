// The auth and runtime groups, whole, on each other Node.js LTS line: the
// same vitest, run by the pinned Node 22, 24 and 26 binaries (first on PATH, so
// anything a test spawns as `node` is that line too). Node 20 runs them as
// the `auth` and `runtime` projects of this same `npm test`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../tools/lib/specs.ts';
import { RUNTIMES } from '../../tools/runtimes.mjs';
import { childEnv, run } from './setup.ts';

const GROUPS = ['auth', 'runtime'];

interface JsonReport {
  success: boolean;
  numTotalTests: number;
  numFailedTestSuites: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string; fullName: string }[] }[];
}

describe('the auth and runtime groups on the other Node.js LTS lines', () => {
  it.each(['node22', 'node24', 'node26'] as const)('%s', { timeout: 900_000 }, async (line) => {
    const node = inject('runtimes')[line]!;
    const work = mkdtempSync(join(tmpdir(), `portico-${line}-`));
    try {
      const report = join(work, 'report.json');
      const env = childEnv(work, { PATH: `${dirname(node)}:${process.env.PATH}`, CI: 'true' });
      const args = [
        join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'run',
        ...GROUPS.flatMap((g) => ['--project', g]),
        '--reporter=json',
        `--outputFile=${report}`,
      ];
      // A failing run exits non-zero; its report says what failed, so read it either way.
      const failure = await run(ROOT, node, args, env, 900_000).then(
        () => undefined,
        (error: Error) => error,
      );
      let result: JsonReport;
      try {
        result = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      } catch {
        throw failure ?? new Error(`vitest on ${line} wrote no report`);
      }
      const counts = GROUPS.map((group) => {
        const files = result.testResults.filter((f) => relative(ROOT, f.name).startsWith(`packages/${group}/`));
        const tests = files.flatMap((f) => f.assertionResults);
        return {
          group,
          files: files.length,
          passed: tests.filter((t) => t.status === 'passed').length,
          other: tests.filter((t) => t.status !== 'passed'),
        };
      });
      console.log(
        `Node.js ${RUNTIMES[line].version}: ${counts.map((c) => `${c.group} ${c.passed} passed, ${c.other.length} failed or skipped (${c.files} files)`).join('; ')}`,
      );
      const broken = result.testResults
        .filter((f) => f.status !== 'passed')
        .map((f) => `${relative(ROOT, f.name)}: ${f.message ?? ''}`.slice(0, 2000));
      expect(broken, 'test files that failed').toEqual([]);
      for (const c of counts) {
        expect(c.files, `${c.group} test files run`).toBeGreaterThan(0);
        expect(
          c.other.map((t) => `${t.status}: ${t.fullName}`),
          `${c.group} tests not passed`,
        ).toEqual([]);
      }
      expect(result.numFailedTestSuites).toBe(0);
      expect(result.success).toBe(true);
      expect(failure).toBeUndefined();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
