import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../redis-client.js'
import { policyFromSeconds } from './lifetime.js'
import { MemoryTokenStore } from './memory-token-store.js'
import { RedisTokenStore } from './redis-token-store.js'
import type { TokenStore } from './token-store.js'

/** The store that TOKEN_STORE names, with the lifetimes of the configuration; `redis` is the connection it uses for `redis`. */
export function createTokenStore (config: Config, redis: RedisClient | undefined, log: Logger): TokenStore {
  const policy = policyFromSeconds(config.TOKEN_TTL_SECONDS, config.TOKEN_MAX_LIFETIME_SECONDS)
  switch (config.TOKEN_STORE) {
    case 'memory':
      return new MemoryTokenStore(policy)
    case 'redis':
      if (redis === undefined) throw new Error('TOKEN_STORE=redis needs a Redis connection')
      return new RedisTokenStore({ client: redis, policy, keyPrefix: config.REDIS_KEY_PREFIX, log })
  }
}
