import { PorticoError } from '@portico/auth';

/** A mistake in what the user asked for, or a condition the command cannot work in; printed as one line. */
export class CliError extends PorticoError {
  static override readonly errorName = 'CliError';
}
