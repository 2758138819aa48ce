// What a release publishes, and what those packages need from elsewhere:
// shared by the install test (which publishes to Verdaccio) and the ecosystem
// tests (which install tarballs directly).
import { cpSync, existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ROOT } from '../../tools/lib/specs.ts';

export const PROVIDERS = ['@portico/finexer', '@portico/fdx', '@portico/dexero-fd', '@portico/expertfile', '@portico/dapi'];
export const PUBLISHED = [...PROVIDERS, '@portico/auth', '@portico/runtime'];

/** The workspace folder of a published package. */
export const packageDir = (name: string) => join(ROOT, 'packages', name.split('/')[1]!);

/** Where a package's dependency is installed, following Node's lookup from the package's real directory. */
function locate(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = basename(dir) === 'node_modules' ? join(dir, name) : join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed where ${from} can load it`);
  }
}

/** Every third-party package (`name@version` -> installed folder) that `packages` load, transitively. */
export function thirdPartyDependencies(packages: readonly string[] = PUBLISHED): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (dir: string) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (dep.startsWith('@portico/')) continue;
      const at = locate(dir, dep);
      const { version } = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8'));
      if (found.has(`${dep}@${version}`)) continue;
      found.set(`${dep}@${version}`, at);
      visit(at);
    }
  };
  for (const name of packages) visit(packageDir(name));
  return found;
}

/**
 * A copy of an installed package that `npm pack` can pack. pnpm's store
 * hardlinks files with equal content; npm pack would write those as tar
 * hardlinks, which npm install drops. A plain copy has none.
 */
export function plainCopy(id: string, dir: string, into: string): string {
  const copy = join(into, id.replace('/', '+'));
  cpSync(dir, copy, { recursive: true, dereference: true });
  return copy;
}
