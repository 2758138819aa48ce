// A client-credentials or static-token client must not carry the
// authorization-code flow, PKCE, sessions or revocation: bundlers drop them
// only while nothing on the createAuthenticator path reaches them.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));

// `entry` is the user's file; `client` a module it imports, as a generated client is.
async function bundle(entry: string, client = ''): Promise<{ modules: string[]; text: string }> {
  const result = await build({
    stdin: { contents: entry, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    plugins: [
      {
        name: 'client',
        setup(b) {
          b.onResolve({ filter: /^client$/ }, () => ({ path: 'client', namespace: 'client' }));
          b.onLoad({ filter: /.*/, namespace: 'client' }, () => ({
            contents: client,
            loader: 'ts',
            resolveDir: fileURLToPath(new URL('.', import.meta.url)),
          }));
        },
      },
    ],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  return {
    modules: Object.keys(inputs)
      .filter((file) => inputs[file]!.bytesInOutput > 0)
      .map((file) => file.replace(/^.*\/src\//, '')),
    text: result.outputFiles[0]!.text,
  };
}

const FLOW_ONLY = ['flow.ts', 'pkce.ts'];
// Strings only revocation and session code contain.
const FLOW_TEXT = ['this provider has no revocation endpoint', 'save the initial tokens', 'code_challenge'];

describe('what a client-credentials bundle carries', () => {
  it('createAuthenticator pulls in no flow, PKCE, session or revocation code', async () => {
    const { modules, text } = await bundle(`export { createAuthenticator } from ${JSON.stringify(index)};`);
    expect(modules).toContain('authenticator.ts');
    for (const module of FLOW_ONLY) expect(modules).not.toContain(module);
    for (const marker of FLOW_TEXT) expect(text).not.toContain(marker);
  });

  it('an unused oauth binding, as a generated client writes it, costs nothing', async () => {
    const client = `import { createAuthenticator, defineOAuth } from ${JSON.stringify(index)};
const spec = { auth: { grants: ['authorization_code'] } };
export const oauth = /* @__PURE__ */ defineOAuth(spec);
export { createAuthenticator };`;
    const { modules } = await bundle(`export { createAuthenticator } from 'client';`, client);
    for (const module of FLOW_ONLY) expect(modules).not.toContain(module);
    // The same client, with oauth used: the flow is there.
    expect((await bundle(`export { oauth } from 'client';`, client)).modules).toContain('flow.ts');
  });

  it('the flow itself does carry them (the checks above can fail)', async () => {
    const { modules, text } = await bundle(`export { createOAuthFlow } from ${JSON.stringify(index)};`);
    for (const module of FLOW_ONLY) expect(modules).toContain(module);
    for (const marker of FLOW_TEXT) expect(text).toContain(marker);
  });
});
