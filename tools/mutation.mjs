// `pnpm mutation [group ...]`: StrykerJS over the modules that guard secrets
// and grants, a group at a time, then MUTATION.md: the score of each module
// and every mutant that survived, with where it is. A mutant that is
// equivalent (no test could tell it apart) is marked in the source with a
// `// Stryker disable next-line <mutator>: <why>` comment, and listed with
// that reason. StrykerJS 10 needs Node.js 22, which tools/runtimes.mjs
// fetches like the ecosystem tests' runtimes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRuntimes } from './runtimes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORTS = join(ROOT, 'reports', 'mutation');

/** The security-critical modules of issue 21, and the test groups (vitest projects) that can catch their mutants. */
export const GROUPS = {
  auth: {
    modules: [
      'packages/auth/src/lifecycle.ts',
      'packages/auth/src/endpoint.ts',
      'packages/auth/src/redact.ts',
      'packages/auth/src/pkce.ts',
    ],
    projects: ['auth', 'runtime', 'property'],
  },
  runtime: {
    modules: ['packages/runtime/src/transport.ts', 'packages/runtime/src/webhooks.ts', 'packages/runtime/src/pagination.ts'],
    projects: ['runtime', 'property'],
  },
  redis: { modules: ['packages/redis/src/store.ts', 'packages/redis/src/crypto.ts'], projects: ['redis'] },
  cli: {
    modules: ['packages/cli/src/tokens-file.ts', 'packages/cli/src/file-store.ts', 'packages/cli/src/login.ts'],
    projects: ['cli'],
  },
};

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function runGroup(name, node) {
  const { modules, projects } = GROUPS[name];
  const report = join(REPORTS, `${name}.json`);
  console.log(`mutation: ${name} (${modules.join(', ')}; tests: ${projects.join(', ')})`);
  execFileSync(
    node,
    [
      join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'),
      'run',
      'stryker.config.mjs',
      '--mutate',
      modules.join(','),
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
      // Bounded: the whole of issue 21's modules takes well under this on two cores.
      timeout: 4 * 3600_000,
      env: {
        ...process.env,
        PORTICO_MUTATION_REPORT: relative(ROOT, `${report}.partial`),
        PORTICO_MUTATION_PROJECTS: projects.join(','),
        // Each mutant reruns the property tests that cover it: a fifth of their cases keeps a run within hours.
        PORTICO_PROPERTY_RUNS_SCALE: '0.2',
        REDOCLY_TELEMETRY: 'off',
        TURBO_TELEMETRY_DISABLED: '1',
        PATH: `${join(node, '..')}:${process.env.PATH}`,
      },
    },
  );
  renameSync(`${report}.partial`, report);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  writeFileSync(`${report}.meta.json`, JSON.stringify({ commit, date: new Date().toISOString().slice(0, 10) }));
}

const lineOf = (mutant) => mutant.location.start.line;
const oneLine = (text) => text.replace(/\s+/g, ' ').trim().slice(0, 80);

function summarize() {
  const rows = [];
  const runs = [];
  const survivors = [];
  const ignored = [];
  for (const name of Object.keys(GROUPS)) {
    const path = join(REPORTS, `${name}.json`);
    if (!existsSync(path)) continue;
    const { files } = JSON.parse(readFileSync(path, 'utf8'));
    const meta = existsSync(`${path}.meta.json`) ? JSON.parse(readFileSync(`${path}.meta.json`, 'utf8')) : {};
    runs.push(`- ${name}: commit ${meta.commit ?? 'unknown'}, ${meta.date ?? 'date unknown'}; tests: ${GROUPS[name].projects.join(', ')}`);
    for (const [file, { mutants }] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
      const count = (set) => mutants.filter((m) => set.has(m.status)).length;
      const detected = count(DETECTED);
      const undetected = count(UNDETECTED);
      const valid = detected + undetected;
      rows.push(
        `| ${file} | ${valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)}%`} | ${detected} | ${undetected} | ${mutants.filter((m) => m.status === 'Ignored').length} |`,
      );
      for (const m of mutants.sort((a, b) => lineOf(a) - lineOf(b))) {
        const where = `${file}:${lineOf(m)}`;
        if (UNDETECTED.has(m.status)) survivors.push(`| ${where} | ${m.mutatorName} | \`${oneLine(m.replacement ?? '')}\` | ${m.status} |`);
        if (m.status === 'Ignored') ignored.push(`| ${where} | ${m.mutatorName} | ${oneLine(m.statusReason ?? '')} |`);
      }
    }
  }
  if (rows.length === 0) throw new Error('mutation: no report in reports/mutation yet; run `pnpm mutation` first');
  const text = `# Mutation testing

\`pnpm mutation\` runs StrykerJS (tools/mutation.mjs) over the modules that guard secrets and grants, and writes this page. A module's score is the share of its mutants that some test kills (or that time out); a surviving mutant is a change to the code that no test notices.

Each group was run at the commit shown; line numbers are that commit's. The property tests ran a fifth of their cases per mutant.

${runs.join('\n')}

| module | score | killed | survived | equivalent (marked in the source) |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

## Surviving mutants

${survivors.length === 0 ? 'None.' : `| where | mutator | replacement | status |\n| --- | --- | --- | --- |\n${survivors.join('\n')}`}

## Equivalent mutants, and why

Each is marked where it stands with \`// Stryker disable next-line <mutator>: <why>\`.

${ignored.length === 0 ? 'None.' : `| where | mutator | why no test can tell it apart |\n| --- | --- | --- |\n${ignored.join('\n')}`}
`;
  writeFileSync(join(ROOT, 'MUTATION.md'), text);
  console.log(`mutation: MUTATION.md written (${survivors.length} surviving)`);
}

// `--report` writes MUTATION.md from the reports already in reports/mutation, running nothing.
const reportOnly = process.argv.includes('--report');
const wanted = process.argv.slice(2).filter((arg) => arg !== '--report');
for (const name of wanted)
  if (!(name in GROUPS)) throw new Error(`mutation: unknown group ${name}; groups: ${Object.keys(GROUPS).join(', ')}`);
mkdirSync(REPORTS, { recursive: true });
if (!reportOnly) {
  const { node22 } = ensureRuntimes(['node22']);
  for (const name of wanted.length > 0 ? wanted : Object.keys(GROUPS)) runGroup(name, node22);
}
summarize();
