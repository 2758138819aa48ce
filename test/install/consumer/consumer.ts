// A user's program, built only on what the five packages publish: one
// authenticated call with each. The install test type-checks it with
// `tsc --strict` (nodenext and bundler resolution) and runs it against the
// providers' loopback emulators, whose addresses and test credentials it gets
// as `Config`.
import { createClient as dapiClient, exchangeToken, revokeGrant } from '@portico/dapi';
import { createClient as dexeroFdClient } from '@portico/dexero-fd';
import { createClient as expertFileClient } from '@portico/expertfile';
import { createClient as fdxClient, oauth as fdxOAuth } from '@portico/fdx';
import { createClient as finexerClient, oauth as finexerOAuth, type Tokens } from '@portico/finexer';

interface ClientCredentials {
  apiBaseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

interface AuthorizationCode {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  apiBaseUrl: string;
}

export interface Config {
  dexeroFd: ClientCredentials;
  expertfile: ClientCredentials & { organization: number };
  dapi: { apiBaseUrl: string; appSecret: string; accessCode: string; connectionID: string; userSecret: string };
  finexer: AuthorizationCode & { authorizationUrl: string; tokenUrl: string };
  fdx: AuthorizationCode & { authBaseUrl: string };
}

/** The user's browser at an authorization server that approves at once: one redirect back to the app. */
async function consent(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (location === null) throw new Error(`the authorization server answered ${response.status} without a redirect`);
  return location;
}

/** Per package, what the authenticated call returned. */
export async function run(c: Config): Promise<Record<string, string>> {
  const out: Record<string, string> = {};

  const fd = dexeroFdClient({
    baseUrl: c.dexeroFd.apiBaseUrl,
    throwOnError: true,
    auth: { clientId: c.dexeroFd.clientId, clientSecret: c.dexeroFd.clientSecret, tokenUrl: c.dexeroFd.tokenUrl },
  });
  const records = await fd.GET('/records.{format}', { params: { path: { format: 'json' } } });
  out['@portico/dexero-fd'] = `${records.response.status} records=${records.data.records.length}`;

  const ef = expertFileClient({
    baseUrl: c.expertfile.apiBaseUrl,
    throwOnError: true,
    auth: { clientId: c.expertfile.clientId, clientSecret: c.expertfile.clientSecret, tokenUrl: c.expertfile.tokenUrl },
  });
  const experts = await ef.GET('/organization/{corporation}/expert', { params: { path: { corporation: c.expertfile.organization } } });
  out['@portico/expertfile'] = `${experts.response.status} total=${experts.data.data.total}`;

  const dapiTokens = await exchangeToken(
    { appSecret: c.dapi.appSecret, accessCode: c.dapi.accessCode, connectionID: c.dapi.connectionID },
    { baseUrl: c.dapi.apiBaseUrl },
  );
  const dapiSecrets = { appSecret: c.dapi.appSecret, userSecret: c.dapi.userSecret };
  const dapi = dapiClient({ baseUrl: c.dapi.apiBaseUrl, throwOnError: true, auth: { accessToken: dapiTokens.accessToken } });
  const identity = await dapi.POST('/data/identity/get', { body: dapiSecrets });
  // The grant ends at the provider (DelinkUser): the same token is refused afterwards.
  await revokeGrant(dapiTokens, dapiSecrets, { baseUrl: c.dapi.apiBaseUrl });
  const delinked = await dapiClient({ baseUrl: c.dapi.apiBaseUrl, auth: { accessToken: dapiTokens.accessToken } }).POST(
    '/data/identity/get',
    {
      body: dapiSecrets,
    },
  );
  out['@portico/dapi'] = `${identity.response.status} status=${identity.data.status}; after revokeGrant ${delinked.response.status}`;

  const fx = finexerOAuth({
    clientId: c.finexer.clientId,
    clientSecret: c.finexer.clientSecret,
    redirectUri: c.finexer.redirectUri,
    authorizationUrl: c.finexer.authorizationUrl,
    tokenUrl: c.finexer.tokenUrl,
  });
  const fxRequest = await fx.authorizationUrl({ scope: ['customer_read'] });
  const fxTokens: Tokens = await fx.exchangeCode(await consent(fxRequest.url), { state: fxRequest.state });
  const finexer = finexerClient({ baseUrl: c.finexer.apiBaseUrl, throwOnError: true, auth: fx.session(fxTokens) });
  const customers = await finexer.GET('/customers');
  out['@portico/finexer'] = `${customers.response.status} count=${customers.data.count}`;

  const fdxFlow = fdxOAuth({
    clientId: c.fdx.clientId,
    clientSecret: c.fdx.clientSecret,
    redirectUri: c.fdx.redirectUri,
    baseUrl: c.fdx.authBaseUrl,
  });
  const fdxRequest = await fdxFlow.authorizationUrl({ scope: ['customers'] });
  const fdxTokens = await fdxFlow.exchangeCode(await consent(fdxRequest.url), {
    state: fdxRequest.state,
    codeVerifier: fdxRequest.codeVerifier!,
  });
  const fdx = fdxClient({ baseUrl: c.fdx.apiBaseUrl, throwOnError: true, auth: fdxFlow.session(fdxTokens) });
  const customer = await fdx.GET('/customers/current');
  out['@portico/fdx'] = `${customer.response.status} customerId=${customer.data.customerId}`;

  // The types are real, not `any`: a wrong path does not compile.
  // @ts-expect-error: /records.csv is not an operation of Dexero FD
  void (() => fd.GET('/records.csv'));

  return out;
}
