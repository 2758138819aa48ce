// The runtime project of vitest.config.ts, with one module of
// packages/runtime/src changed in memory (PORTICO_MUTATION: { file, from, to }).
// source.test.ts runs it to prove the runtime suite exercises the source.
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import repo from '../../vitest.config.ts';

const mutation: { file: string; from: string; to: string } = JSON.parse(process.env.PORTICO_MUTATION ?? 'null');
if (!mutation) throw new Error('PORTICO_MUTATION is not set');

const runtime = ((repo.test?.projects ?? []) as TestProjectInlineConfiguration[]).find((p) => p.test?.name === 'runtime');
if (!runtime) throw new Error('vitest.config.ts has no runtime project');

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    projects: [
      {
        ...runtime,
        plugins: [
          {
            name: 'portico-mutation',
            enforce: 'pre',
            transform(code: string, id: string) {
              if (id.split('?')[0] !== mutation.file) return undefined;
              if (!code.includes(mutation.from)) throw new Error(`mutation target not found in ${mutation.file}`);
              return code.replace(mutation.from, mutation.to);
            },
          },
        ],
      },
    ],
  },
});
