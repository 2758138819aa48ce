// Size budgets (`pnpm size`; checked by tools/release/test/size.test.ts): the
// JavaScript a user's bundle gets from one provider package, everything it
// exports with @portico/runtime, @portico/auth and openapi-fetch bundled in,
// minified and gzipped.
//
// Each budget is a measurement plus about 3%, rounded up to 0.5 kB: room for
// fixes, not for a new dependency. Raise one only with the reason in the PR.
// Measured 2026-12-04 (kB, min+gz): dapi 14.31, dexero-fd 17.33, expertfile
// 15.82, fdx 18.28, finexer 19.48. `import *` takes everything a package
// exports: the oauth flow, exchangeToken and webhooks too, so these move
// little when createClient alone shrinks (bench/bundle.ts measures that:
// dapi 10.7, fdx 11.3, finexer 11.5, expertfile 15.6, dexero-fd 17.1). The
// XML codec and pagination ship only where a spec uses them (pagination only
// its own paging styles), error classes share one base with no static blocks,
// createClient carries only the kinds of auth input its provider takes, and
// spec.ts holds only what the code reads.
export const budgets = {
  dapi: '15 kB',
  'dexero-fd': '18 kB',
  expertfile: '16.5 kB',
  fdx: '19 kB',
  finexer: '20.5 kB',
};

export default Object.entries(budgets).map(([slug, limit]) => ({
  name: `@portico/${slug}`,
  path: `packages/${slug}/dist/index.js`,
  import: '*',
  gzip: true,
  limit,
}));
