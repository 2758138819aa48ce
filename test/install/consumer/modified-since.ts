// Compiles only against the release whose listRecords has the modifiedSince
// filter (the install test's second round adds it to the spec).
import { createClient } from '@portico/dexero-fd';

const client = createClient({ auth: { clientId: 'id', clientSecret: 'secret' } });

export const recent = () =>
  client.GET('/records.{format}', { params: { path: { format: 'json' }, query: { modifiedSince: '2026-01-01T00:00:00Z' } } });
