// The test groups a mutant of a security-critical module can be caught by,
// for `pnpm mutation` (StrykerJS): the groups of vitest.config.ts that run
// in-process against `src`. The Redis soak is left out: its workers are
// other processes, which Stryker's per-test coverage cannot see into.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// tools/mutation.mjs names the groups that can catch a module group's mutants.
const GROUPS = new Set((process.env.PORTICO_MUTATION_PROJECTS ?? 'auth,runtime,redis,cli,property').split(','));
type Project = { test?: { name?: string; exclude?: string[] } };

export default defineConfig({
  test: {
    ...base.test,
    projects: ((base.test?.projects ?? []) as Project[])
      .filter((project) => GROUPS.has(project.test?.name ?? ''))
      .map((project) => ({ ...project, test: { ...project.test, exclude: ['**/node_modules/**', 'packages/redis/test/soak.test.ts'] } })),
  },
});
