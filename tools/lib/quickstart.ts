// The docs site's "try it from the terminal" lines for a provider: HTML
// around a shell snippet, where the path comes from the spec (someone
// else's text, for an imported one).
import { type Json, operations } from './specs.ts';

export const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A word a POSIX shell reads as it is: single-quoted unless it is made of safe characters only. */
const shellWord = (s: string) => (/^[\w/{}.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** Log in once in the browser, then call the API: for a provider with an authorization-code grant, else nothing. */
export function cliQuickStart(slug: string, doc: Json): string {
  // A provider without grants (a key or token the user holds) has no login to try.
  if (!doc['x-portico-auth'].grants?.includes('authorization_code')) return '';
  const read = operations(doc).find((o) => o.method === 'get' && !o.path.includes('{') && (o.op.security ?? doc.security ?? []).length > 0);
  return `<p>Or try it from the terminal first: log in once in your browser, then call the API.</p>
<pre><code>export ${slug.replace(/-/g, '_').toUpperCase()}_CLIENT_SECRET=…   # never on the command line
npx @portico/cli login ${slug} --client-id YOUR_CLIENT_ID${String(doc['x-portico-auth'].authorization?.url).startsWith('/') ? ' --auth-url https://auth.your-bank.example' : ''}
npx @portico/cli call ${slug} GET ${escapeHtml(shellWord(read?.path ?? '/'))}</code></pre>`;
}
