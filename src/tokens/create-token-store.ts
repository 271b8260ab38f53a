import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { policyFromSeconds } from './lifetime.js'
import { MemoryTokenStore } from './memory-token-store.js'
import { RedisTokenStore } from './redis-token-store.js'
import type { TokenStore } from './token-store.js'

/** The store that TOKEN_STORE names, with the lifetimes of the configuration. */
export function createTokenStore (config: Config, log: Logger): TokenStore {
  const policy = policyFromSeconds(config.TOKEN_TTL_SECONDS, config.TOKEN_MAX_LIFETIME_SECONDS)
  switch (config.TOKEN_STORE) {
    case 'memory':
      return new MemoryTokenStore(policy)
    case 'redis':
      return new RedisTokenStore({
        client: createRedisClient(config.REDIS_URL!, log),
        policy,
        keyPrefix: config.REDIS_KEY_PREFIX,
        ownsClient: true
      })
  }
}

/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 5000

/**
 * A Redis client that fails fast while Redis is away (so requests get a prompt 503 rather
 * than hanging) and reconnects on its own with exponential backoff. `rediss://` URLs use TLS.
 */
export function createRedisClient (url: string, log: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
  })
  let connected = false
  client.on('ready', () => {
    connected = true
    log.info({ store: 'redis' }, 'connected to Redis')
  })
  // 'reconnecting', not 'close': a close that the service asked for (quit or disconnect at
  // shutdown) ends without reconnecting, and is no loss worth a warning.
  client.on('reconnecting', () => {
    if (connected) log.warn({ store: 'redis' }, 'Redis connection lost; reconnecting')
    connected = false
  })
  client.on('end', () => {
    connected = false
    log.info({ store: 'redis' }, 'disconnected from Redis')
  })
  // The URL may hold a password, so only the error's code is logged, never its message.
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) log.warn({ store: 'redis', code: err.code }, 'Redis unreachable; retrying')
  })
  return client
}
