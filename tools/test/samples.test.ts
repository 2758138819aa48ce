// Every operation's sample in the API reference compiles against its package:
// a sample that drifts from the types fails here, not in a reader's editor.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeSample } from '../lib/samples.ts';
import { listProviders, loadSpec, operations, ROOT } from '../lib/specs.ts';
import { prelude, typecheck } from './typecheck.ts';

describe('reference code samples', () => {
  it.each(listProviders())('%s: one sample per operation, each compiles', (slug) => {
    const doc = loadSpec(slug);
    const files: Record<string, string> = {};
    for (const [i, operation] of operations(doc).entries()) {
      const sample = codeSample(slug, doc, operation);
      expect(sample, operation.op.operationId).toContain(`from '@portico/${slug}'`);
      // Numbered: an imported spec's operationId may be missing, or hold a `/` or `#`.
      files[join(ROOT, 'packages', slug, `sample.${i}.ts`)] = `${prelude(slug)}\n${sample}\nexport {};\n`;
    }
    expect(Object.keys(files)).toHaveLength(operations(doc).length);
    const problems = typecheck(files);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it("a revocation endpoint's sample calls the package's function that revokes, not the sign-in", () => {
    const revoking: string[] = [];
    for (const slug of listProviders()) {
      const doc = loadSpec(slug);
      const revocation = doc['x-portico-auth'].revocation?.operationId;
      for (const operation of operations(doc).filter((o) => revocation && o.op.operationId === revocation)) {
        const sample = codeSample(slug, doc, operation);
        expect(sample, slug).toMatch(/await (flow\.revoke\(tokens\)|revokeGrant\(tokens)/);
        expect(sample, slug).not.toContain('calls this endpoint for you');
        revoking.push(slug);
      }
    }
    // Every provider whose profile declares a revocation the spec publishes as an operation.
    expect(revoking.filter((slug) => ['dapi', 'fdx', 'finexer'].includes(slug)).sort()).toEqual(['dapi', 'fdx', 'finexer']);
  });

  it('paginated operations iterate with client.paginate', () => {
    for (const slug of listProviders()) {
      const doc = loadSpec(slug);
      for (const operation of operations(doc).filter((o) => o.op['x-portico-pagination'])) {
        expect(codeSample(slug, doc, operation), operation.op.operationId).toContain(`client.paginate('${operation.path}'`);
      }
    }
  });
});
