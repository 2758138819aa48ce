import { PorticoError } from '@portico/auth';

/**
 * What the mock throws at its user (never at the client it serves, which
 * gets the provider's own error responses). `code` is stable:
 * `unknown_provider`, `invalid_option`, `unknown_operation`, `invalid_body`,
 * `invalid_spec`, `unsupported`, `authorization_refused`, `closed`,
 * `port_in_use` (startMock on a port another server holds; the cause is
 * node:net's error).
 */
export class MockError extends PorticoError {
  static override readonly errorName = 'MockError';
}
