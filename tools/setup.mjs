// First step of `npm run build` and `npm test`: on a machine with only Node.js
// and npm, install the pinned pnpm, then the workspace from the lockfile.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const wanted = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).packageManager.split('@')[1];
const run = (cmd) => execSync(cmd, { stdio: 'inherit' });
let have = '';
try {
  have = execSync('pnpm --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
if (have.split('.')[0] !== wanted.split('.')[0]) {
  console.log(`setup: installing pnpm@${wanted} (found ${have || 'none'})`);
  run(`npm install -g pnpm@${wanted}`);
}
run('pnpm install --frozen-lockfile');

const { ensureSystemDeps } = await import('./system-deps.mjs');
ensureSystemDeps();
