import { PorticoError } from '@portico/auth';

/** Redis did not answer within `commandTimeoutMs` (down, restarting, stalled, unreachable) or answered "not now" (CLUSTERDOWN, LOADING, …); calls go on once it is back. A write that timed out may still be applied later, fenced by its version like any late write. */
export class RedisUnavailableError extends PorticoError {
  static override readonly errorName = 'RedisUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('redis_unavailable', message, options);
  }
}

/** A stored value could not be read back: no key of `encryptionKey` decrypts it, it was altered, it is plaintext where encryption is on, or its format is unknown. */
export class TokenDecryptionError extends PorticoError {
  static override readonly errorName = 'TokenDecryptionError';

  constructor(message: string) {
    super('token_decryption_failed', message);
  }
}

/** The reason a lease ends when its holder finds another owner holding the lock (its lease ran out, e.g. the process was paused): the holder must stop, its writes are fenced. */
export class LockLostError extends PorticoError {
  static override readonly errorName = 'LockLostError';

  constructor(message: string) {
    super('lock_lost', message);
  }
}
