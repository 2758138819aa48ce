// The runtime's side of the Authenticator contract, in its smallest form:
// header before the request, one replay after a 401 when handleUnauthorized
// says so. Tests use it as "the API call"; @portico/runtime does the same
// plus its own origin checks.
import type { Authenticator } from '../../auth/src/lifecycle.js';

export interface ApiCall {
  response: Response;
  /** Authorization values sent, in order (two when the call was replayed). */
  sent: string[];
}

export async function callApi(auth: Authenticator, url: string, init: RequestInit = {}): Promise<ApiCall> {
  const sent: string[] = [];
  const attempt = async () => {
    const header = await auth.getAuthorization();
    sent.push(header.value);
    const headers = new Headers(init.headers);
    headers.set(header.name, header.value);
    return fetch(url, { ...init, headers });
  };
  let response = await attempt();
  if (response.status === 401) {
    await response.arrayBuffer();
    if (await auth.handleUnauthorized(sent[0]!)) response = await attempt();
  }
  return { response, sent };
}
