// Plays the user's browser through an authorization: follows redirects with
// fetch, carrying cookies, until the authorization server sends the browser
// back to the client's redirect URI. Login and consent are granted by the
// server side (the oidc-provider harness finishes its interactions itself,
// the emulators approve at once).

function sameEndpoint(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname === b.pathname;
}

/** Follows `startUrl` until the redirect to `redirectUri`, and returns that callback URL. */
export async function followAuthorization(startUrl: string, redirectUri: string, maxHops = 20): Promise<URL> {
  const target = new URL(redirectUri);
  const jar = new Map<string, string>();
  let url = new URL(startUrl);
  for (let hop = 0; hop < maxHops; hop++) {
    if (sameEndpoint(url, target)) return url;
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a));
      if (value === '' || expired) jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    await response.arrayBuffer();
    if (response.status < 300 || response.status >= 400 || location === null) {
      throw new Error(`the authorization stopped at ${url.pathname} with HTTP ${response.status}`);
    }
    url = new URL(location, url);
  }
  throw new Error(`no redirect to ${redirectUri} after ${maxHops} hops`);
}
