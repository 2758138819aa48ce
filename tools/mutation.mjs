// `pnpm mutation [group or module ...]`: StrykerJS over the modules that
// guard secrets and grants, then MUTATION.md: the score of each module
// and every mutant that survived, with where it is. A mutant that is
// equivalent (no test could tell it apart) is marked in the source with a
// `// Stryker disable next-line <mutator>: <why>` comment, and listed with
// that reason. StrykerJS 10 needs Node.js 22, which tools/runtimes.mjs
// fetches like the ecosystem tests' runtimes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      'packages/auth/src/credentials.ts',
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

// One report per module, so a run of one module (while its survivors are
// being killed) refreshes its rows without rerunning its whole group.
const reportOf = (module) => join(REPORTS, `${module.replaceAll('/', '_')}.json`);

function groupOf(module) {
  const name = Object.keys(GROUPS).find((group) => GROUPS[group].modules.includes(module));
  if (name === undefined)
    throw new Error(
      `mutation: ${module} is in no group; modules: ${Object.values(GROUPS)
        .flatMap((g) => g.modules)
        .join(', ')}`,
    );
  return name;
}

function run(modules, node) {
  const { projects } = GROUPS[groupOf(modules[0])];
  const partial = join(REPORTS, 'run.json.partial');
  console.log(`mutation: ${modules.join(', ')} (tests: ${projects.join(', ')})`);
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
        PORTICO_MUTATION_REPORT: relative(ROOT, partial),
        PORTICO_MUTATION_PROJECTS: projects.join(','),
        // Each mutant reruns the property tests that cover it: a fifth of their cases keeps a run within hours.
        PORTICO_PROPERTY_RUNS_SCALE: '0.2',
        REDOCLY_TELEMETRY: 'off',
        TURBO_TELEMETRY_DISABLED: '1',
        PATH: `${join(node, '..')}:${process.env.PATH}`,
      },
    },
  );
  const { files } = JSON.parse(readFileSync(partial, 'utf8'));
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const date = new Date().toISOString().slice(0, 10);
  for (const module of modules) {
    if (!(module in files)) throw new Error(`mutation: StrykerJS reported nothing for ${module}`);
    writeFileSync(reportOf(module), JSON.stringify({ module, commit, date, projects, mutants: files[module].mutants }));
  }
  rmSync(partial);
}

const lineOf = (mutant) => mutant.location.start.line;

// Survivors that no test can kill, or that were killed after their module's
// run, each with the reason: matched by mutator, replacement and the start of
// the source line, so an explanation outlives a change of line numbers.
const EXPLAINED = JSON.parse(readFileSync(join(ROOT, 'tools', 'mutation-survivors.json'), 'utf8'));
function whyOf(file, mutant, source) {
  const text = source[lineOf(mutant) - 1]?.trim() ?? '';
  return (EXPLAINED[file] ?? []).find(
    (e) => e.mutator === mutant.mutatorName && e.replacement === (mutant.replacement ?? '') && text.startsWith(e.line),
  )?.why;
}
const oneLine = (text) => text.replace(/\s+/g, ' ').trim().slice(0, 80);

function summarize() {
  const rows = [];
  const runs = [];
  const survivors = [];
  const ignored = [];
  for (const file of Object.values(GROUPS)
    .flatMap((group) => group.modules)
    .sort()) {
    if (!existsSync(reportOf(file))) continue;
    const { commit, date, projects, mutants } = JSON.parse(readFileSync(reportOf(file), 'utf8'));
    const source = execFileSync('git', ['show', `${commit}:${file}`], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    runs.push(`- ${file}: commit ${commit}, ${date}; tests: ${projects.join(', ')}`);
    const count = (set) => mutants.filter((m) => set.has(m.status)).length;
    const detected = count(DETECTED);
    const undetected = count(UNDETECTED);
    const valid = detected + undetected;
    rows.push(
      `| ${file} | ${valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)}%`} | ${detected} | ${undetected} | ${mutants.filter((m) => m.status === 'Ignored').length} |`,
    );
    for (const m of mutants.sort((a, b) => lineOf(a) - lineOf(b))) {
      const where = `${file}:${lineOf(m)}`;
      if (UNDETECTED.has(m.status))
        survivors.push(
          `| ${where} | ${m.mutatorName} | \`${oneLine(m.replacement ?? '')}\` | ${m.status} | ${whyOf(file, m, source) ?? 'not yet killed or explained'} |`,
        );
      if (m.status === 'Ignored') ignored.push(`| ${where} | ${m.mutatorName} | ${oneLine(m.statusReason ?? '')} |`);
    }
  }
  if (rows.length === 0) throw new Error('mutation: no report in reports/mutation yet; run `pnpm mutation` first');
  const text = `# Mutation testing

\`pnpm mutation\` runs StrykerJS (tools/mutation.mjs) over the modules that guard secrets and grants, and writes this page. A module's score is the share of its mutants that some test kills (or that time out); a surviving mutant is a change to the code that no test notices.

Each module was run at the commit shown; line numbers are that commit's. The property tests ran a fifth of their cases per mutant.

${runs.join('\n')}

| module | score | killed | survived | equivalent (marked in the source) |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

## Surviving mutants

Each is equivalent (no test could tell it apart, and a marker on its line would also hide mutants that are killed), or was killed after its module's run; [tools/mutation-survivors.json](tools/mutation-survivors.json) holds the reasons.

${survivors.length === 0 ? 'None.' : `| where | mutator | replacement | status | why it survives |\n| --- | --- | --- | --- | --- |\n${survivors.join('\n')}`}

## Equivalent mutants, and why

Each is marked where it stands with \`// Stryker disable next-line <mutator>: <why>\`.

${ignored.length === 0 ? 'None.' : `| where | mutator | why no test can tell it apart |\n| --- | --- | --- |\n${ignored.join('\n')}`}
`;
  writeFileSync(join(ROOT, 'MUTATION.md'), text);
  console.log(`mutation: MUTATION.md written (${survivors.length} surviving)`);
}

// Arguments are groups or modules; `--report` writes MUTATION.md from the reports already in reports/mutation, running nothing.
const reportOnly = process.argv.includes('--report');
const wanted = process.argv.slice(2).filter((arg) => arg !== '--report');
for (const name of wanted) if (!(name in GROUPS)) groupOf(name);
mkdirSync(REPORTS, { recursive: true });
if (!reportOnly) {
  const { node22 } = ensureRuntimes(['node22']);
  const runs = wanted.length === 0 ? Object.keys(GROUPS) : wanted;
  for (const name of runs) run(name in GROUPS ? GROUPS[name].modules : [name], node22);
}
summarize();
