// Size budgets (`pnpm size`; checked by tools/release/test/size.test.ts): the
// JavaScript a user's bundle gets from one provider package, everything it
// exports with @portico/runtime, @portico/auth and openapi-fetch bundled in,
// minified and gzipped.
//
// Each budget is a measurement plus about 8%, rounded up to 0.5 kB: room for
// fixes, not for a new dependency. Raise one only with the reason in the PR.
// Measured 2026-11-23 at commit ed90db6 (bytes, min+gz): dapi 16064,
// dexero-fd 15273, expertfile 15867, fdx 17397, finexer 18781.
export const budgets = {
  dapi: '17.5 kB',
  'dexero-fd': '16.5 kB',
  expertfile: '17.5 kB',
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
