export { LockLostError, RedisUnavailableError, TokenDecryptionError } from './errors.js';
export { createRedisStore, type RedisConnection, type RedisStoreOptions, type RedisTokenStore } from './store.js';
