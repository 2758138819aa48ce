// StrykerJS over the modules that guard secrets and grants; `pnpm mutation`
// (tools/mutation.mjs) runs it module group by module group and writes
// MUTATION.md. In place, because the tests load workspace packages through
// their `@portico/source` links into this tree, which a sandbox copy would miss.
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  inPlace: true,
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['json', 'progress'],
  jsonReporter: { fileName: process.env.PORTICO_MUTATION_REPORT ?? 'reports/mutation/mutation.json' },
  tempDirName: 'node_modules/.cache/stryker-tmp',
  cleanTempDir: 'always',
};
