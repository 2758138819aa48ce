// The first provider end to end: FDX's package signs in through the mock and pages a list to its end.
import { createClient, oauth } from '@portico/fdx';
import { expect, test } from 'vitest';
import { startMock } from '../src/index.js';

test('the fdx package signs in through startMock and pages /accounts to the end', async () => {
  await using mock = await startMock('fdx');
  const flow = oauth({ ...mock.client, ...mock.authOptions });
  const request = await flow.authorizationUrl({ scope: ['customers', 'accounts'] });
  const tokens = await flow.exchangeCode(mock.controller.approve(request.url), {
    state: request.state,
    codeVerifier: request.codeVerifier!,
  });
  const client = createClient({ ...mock.clientOptions, auth: flow.session(tokens), throwOnError: true });
  expect((await client.GET('/customers/current')).data.customerId).toBeTruthy();
  const items = [];
  for await (const item of client.paginate('/accounts', {})) items.push(item);
  expect(items).toHaveLength(12);
});
