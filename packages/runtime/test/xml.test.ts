// Group 3: Dexero FD answers the same operation in JSON (`.json`) or XML
// (`.xml`); the client must hand back the same object either way, as the
// TypeScript types promise, and must send XML when asked to.

import { authenticatorFor, ConfigurationError, clientCredentials } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spec as dexeroSpec } from '../../dexero-fd/src/generated/spec.ts';
import * as dexero from '../../dexero-fd/src/index.ts';
import { defineClient, NotFoundError } from '../src/index.ts';
import { json, startServer, type TestServer } from './helpers.ts';

const marie = {
  id: 1024,
  type: 'individual',
  firstName: 'Marie',
  lastName: 'Tremblay',
  email: 'marie.tremblay@example.com',
  phone: '+1-418-555-0142',
  language: 'fr',
  active: true,
  address: { street: '123 rue Saint-Jean', city: 'Québec', province: 'QC', postalCode: 'G1R 1N4', country: 'CA' },
  createdAt: '2024-03-18T14:05:00Z',
  updatedAt: '2024-03-18T14:05:00Z',
};
const acme = { id: 7, type: 'organization', organizationName: 'Smith & <Sons>', active: false };

// Element order differs from the JSON key order on purpose: only the schema decides.
const marieXml = `<record id="1024">
    <createdAt>2024-03-18T14:05:00Z</createdAt>
    <type>individual</type>
    <firstName>Marie</firstName>
    <lastName>Tremblay</lastName>
    <email>marie.tremblay@example.com</email>
    <phone>+1-418-555-0142</phone>
    <language>fr</language>
    <active>true</active>
    <address>
      <street>123 rue Saint-Jean</street>
      <city>Québec</city>
      <province>QC</province>
      <postalCode>G1R 1N4</postalCode>
      <country>CA</country>
    </address>
    <updatedAt>2024-03-18T14:05:00Z</updatedAt>
  </record>`;
const acmeXml = `<record id="7"><type>organization</type><organizationName>Smith &amp; &lt;Sons&gt;</organizationName><active>false</active></record>`;
const list = (...records: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<recordList>\n  <records>${records.join('')}</records>\n</recordList>\n`;
const xml = (status: number, body: string) => ({ status, headers: { 'content-type': 'application/xml; charset=utf-8' }, body });

let server: TestServer;
let client: ReturnType<typeof dexero.createClient>;
beforeAll(async () => {
  server = await startServer();
  client = dexero.createClient({ baseUrl: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const listBoth = async () => {
  const fromJson = await client.GET('/records.{format}', {});
  const fromXml = await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
  expect(server.requests.map((r) => r.path)).toEqual(['/records.json', '/records.xml']);
  expect(fromJson.error).toBeUndefined();
  expect(fromXml.error).toBeUndefined();
  return [fromJson.data, fromXml.data] as const;
};

describe('XML and JSON representations (dexero-fd)', () => {
  it('a one-record list decodes to the same object, the list still an array, numbers numbers, the id attribute on the record', async () => {
    server.inject('GET /records.json', json(200, { records: [marie] }));
    server.inject('GET /records.xml', xml(200, list(marieXml)));
    const [fromJson, fromXml] = await listBoth();
    expect(fromXml).toStrictEqual(fromJson);
    expect(fromXml).toStrictEqual({ records: [marie] });
    expect(Array.isArray(fromXml!.records)).toBe(true);
    expect(fromXml!.records[0]!.id).toBe(1024);
    expect(fromXml!.records[0]!.active).toBe(true);
  });

  it('several records, with missing optional fields and escaped text, decode alike', async () => {
    server.inject('GET /records.json', json(200, { records: [marie, acme] }));
    server.inject('GET /records.xml', xml(200, list(marieXml, acmeXml)));
    const [fromJson, fromXml] = await listBoth();
    expect(fromXml).toStrictEqual(fromJson);
    expect(fromXml!.records[1]).toStrictEqual(acme);
  });

  it('an empty list is an empty array in both', async () => {
    server.inject('GET /records.json', json(200, { records: [] }));
    server.inject('GET /records.xml', xml(200, '<recordList><records/></recordList>'));
    const [fromJson, fromXml] = await listBoth();
    expect(fromXml).toStrictEqual({ records: [] });
    expect(fromXml).toStrictEqual(fromJson);
  });

  it('an XML error body decodes to the same typed error as the JSON one', async () => {
    server.inject('GET /records.json', json(404, { code: 404, message: 'No such record' }));
    server.inject('GET /records.xml', xml(404, '<error><code>404</code><message>No such record</message></error>'));
    const fromJson = await client.GET('/records.{format}', {});
    const fromXml = await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    expect(fromXml.error).toStrictEqual({ code: 404, message: 'No such record' });
    expect(fromXml.error).toStrictEqual(fromJson.error);

    server.inject('GET /records.xml', xml(404, '<error><code>404</code><message>No such record</message></error>'));
    const throwing = dexero.createClient({ baseUrl: server.url, throwOnError: true });
    await expect(throwing.GET('/records.{format}', { params: { path: { format: 'xml' } } })).rejects.toSatisfy(
      (e) =>
        e instanceof NotFoundError &&
        (e as NotFoundError).body !== undefined &&
        (e as NotFoundError<{ message: string }>).body.message === 'No such record',
    );
  });

  it("a number that isn't one is a parse error, not a string smuggled into a number field", async () => {
    server.inject('GET /records.xml', xml(200, list('<record id="abc"/>')));
    await expect(client.GET('/records.{format}', { params: { path: { format: 'xml' } } })).rejects.toMatchObject({
      code: 'response_parse_error',
    });
  });

  const input = {
    type: 'organization',
    organizationName: 'Smith & <Sons>',
    email: 'office@smith.example',
    active: false,
    address: { city: 'Québec', country: 'CA' },
  };

  it("create with format: 'xml' sends an XML body and decodes the XML answer like the JSON one", async () => {
    server.inject('POST /records.xml', xml(201, `<?xml version="1.0"?>${acmeXml}`));
    server.inject('POST /records.json', json(201, acme));
    const fromXml = await client.POST('/records.{format}', { params: { path: { format: 'xml' } }, body: input });
    const fromJson = await client.POST('/records.{format}', { body: input });

    const [sentXml, sentJson] = server.requests;
    expect(sentXml!.contentType).toBe('application/xml');
    expect(sentXml!.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><record><type>organization</type><organizationName>Smith &amp; &lt;Sons&gt;</organizationName>' +
        '<email>office@smith.example</email><active>false</active><address><city>Québec</city><country>CA</country></address></record>',
    );
    expect(sentJson!.contentType).toBe('application/json');
    expect(JSON.parse(sentJson!.body)).toStrictEqual(input);

    expect(fromXml.data).toStrictEqual(acme);
    expect(fromXml.data).toStrictEqual(fromJson.data);
  });

  it("update with format: 'xml' sends XML too", async () => {
    server.inject('PUT /records/7.xml', xml(200, acmeXml));
    const { data } = await client.PUT('/records/{recordId}.{format}', {
      params: { path: { recordId: 7, format: 'xml' } },
      body: { active: true },
    });
    expect(server.requests[0]!.body).toBe('<?xml version="1.0" encoding="UTF-8"?><record><active>true</active></record>');
    expect(data).toStrictEqual(acme);
  });
});

// The codec is a module of its own (@portico/runtime/xml), bound by the generated client only when the spec declares XML.
describe('a spec that declares XML, bound without the codec', () => {
  const bare = () => defineClient<dexero.paths>(dexeroSpec, authenticatorFor(clientCredentials))({ baseUrl: server.url, maxRetries: 0 });

  it('reads JSON as usual, and refuses XML with a ConfigurationError naming the codec, before or after sending', async () => {
    server.inject('GET /records.json', json(200, { records: [marie] }));
    server.inject('GET /records.xml', xml(200, list(marieXml)));
    expect((await bare().GET('/records.{format}', {})).data).toStrictEqual({ records: [marie] });
    const decoding = await bare()
      .GET('/records.{format}', { params: { path: { format: 'xml' } } })
      .catch((error: unknown) => error);
    expect(decoding).toBeInstanceOf(ConfigurationError);
    expect((decoding as Error).message).toContain('@portico/runtime/xml');
    const encoding = await bare()
      .POST('/records.{format}', { params: { path: { format: 'xml' } }, body: { active: true } })
      .catch((error: unknown) => error);
    expect(encoding).toBeInstanceOf(ConfigurationError);
    expect(server.requests.map((r) => r.path)).toEqual(['/records.json', '/records.xml']);
  });
});
