// Real components some test groups need (redis-server for shared token
// stores, headless Chromium for docs and login flows). A group never skips
// itself because one is missing: setup installs it from Debian's packages
// when it can, and otherwise stops with one line saying how to get it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each component: the path the tests use, and the Debian package that provides it. */
export const SYSTEM_DEPS = [
  { name: 'redis-server', path: '/usr/bin/redis-server', apt: 'redis-server' },
  { name: 'headless Chromium', path: '/usr/bin/chromium-headless-shell', apt: 'chromium-headless-shell' },
];

const missing = () => SYSTEM_DEPS.filter((dep) => !existsSync(dep.path));

function canApt() {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function ensureSystemDeps() {
  const wanted = missing();
  if (wanted.length === 0) return;
  const packages = wanted.map((dep) => dep.apt);
  if (!canApt()) {
    console.error(
      `setup: missing ${wanted.map((dep) => dep.name).join(' and ')}; install with: sudo apt-get install -y ${packages.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`setup: installing ${packages.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env, timeout: 600_000 });
  const still = missing();
  if (still.length > 0) {
    console.error(`setup: ${still.map((dep) => dep.path).join(', ')} still missing after apt-get install`);
    process.exit(1);
  }
}
