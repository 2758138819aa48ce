// The CLI's catalog is generated from the specs: a spec change that is not
// regenerated would let `portico call` accept or refuse the wrong things.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCatalog } from '../cli-catalog.ts';
import { listProviders, loadSpec, operations, ROOT } from '../lib/specs.ts';

describe('portico CLI catalog', () => {
  it('is up to date with the specs (pnpm --filter @portico/cli generate)', () => {
    expect(readFileSync(join(ROOT, 'packages/cli/src/generated/catalog.ts'), 'utf8')).toBe(renderCatalog());
  });

  it('lists every operation of every provider, and loads every provider package', () => {
    const text = renderCatalog();
    for (const slug of listProviders()) {
      expect(text).toContain(`import('@portico/${slug}')`);
      for (const { op } of operations(loadSpec(slug))) expect(text).toContain(`"operationId":"${op.operationId}"`);
      expect(JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).dependencies).toHaveProperty(`@portico/${slug}`);
    }
  });
});
