import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { createRedisClient } from '../redis.js'
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
        client: createRedisClient(config, log),
        policy,
        keyPrefix: config.REDIS_KEY_PREFIX,
        ownsClient: true,
        log
      })
  }
}
