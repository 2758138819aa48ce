// What a release publishes, and what those packages need from elsewhere:
// shared by the install test (which publishes to Verdaccio) and the ecosystem
// tests (which install tarballs directly).
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ROOT } from '../../tools/lib/specs.ts';

export const PROVIDERS = ['@portico/finexer', '@portico/fdx', '@portico/dexero-fd', '@portico/expertfile', '@portico/dapi'];
export const PUBLISHED = [...PROVIDERS, '@portico/auth', '@portico/runtime'];

/** The workspace folder of a published package. */
export const packageDir = (name: string) => join(ROOT, 'packages', name.split('/')[1]!);

/** Where a package's dependency is installed, following Node's lookup from `from`; undefined where it is not. */
function installed(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = basename(dir) === 'node_modules' ? join(dir, name) : join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function locate(from: string, name: string): string {
  const at = installed(from, name);
  if (!at) throw new Error(`${name} is not installed where ${from} can load it`);
  return at;
}

/**
 * Every third-party package (`name@version` -> installed folder) that
 * `packages` load, transitively, and the third-party `tools` a user installs
 * beside them (vitest, msw), as this workspace has them. An optional
 * dependency (a platform's prebuilt binary) goes where it is installed here,
 * the one for this machine; an optional peer never (a user installs it when
 * they want it: `tools` names those).
 */
export function thirdPartyDependencies(packages: readonly string[] = PUBLISHED, tools: readonly string[] = []): Map<string, string> {
  const found = new Map<string, string>();
  const add = (dep: string, at: string) => {
    const { version } = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8'));
    if (found.has(`${dep}@${version}`)) return;
    found.set(`${dep}@${version}`, at);
    visit(at);
  };
  const visit = (dir: string) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const optionalPeer = (dep: string) => manifest.peerDependenciesMeta?.[dep]?.optional === true;
    const required = [
      ...Object.keys({ ...manifest.dependencies }),
      ...Object.keys({ ...manifest.peerDependencies }).filter((d) => !optionalPeer(d)),
    ];
    for (const dep of new Set(required)) if (!dep.startsWith('@portico/')) add(dep, locate(dir, dep));
    for (const dep of Object.keys({ ...manifest.optionalDependencies })) {
      const at = installed(dir, dep);
      if (at) add(dep, at);
    }
  };
  for (const name of packages) visit(packageDir(name));
  // A tool comes from the root's devDependencies, else from a package's (msw, beside @portico/mock).
  for (const tool of tools)
    add(tool, [ROOT, ...packages.map(packageDir)].map((dir) => installed(dir, tool)).find(Boolean) ?? locate(ROOT, tool));
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
  // npm publish obeys a package's publishConfig, which may name the public registry or ask for provenance: the copy has none.
  const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
  if (manifest.publishConfig) {
    delete manifest.publishConfig;
    writeFileSync(join(copy, 'package.json'), JSON.stringify(manifest, null, 2));
  }
  return copy;
}
