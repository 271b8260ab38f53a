import type { FastifyInstance } from 'fastify'
import type { RedisClient } from '../../src/redis-client.js'
import { createTokenStore } from '../../src/tokens/create-token-store.js'
import type { TokenStore } from '../../src/tokens/token-store.js'

/**
 * The auth service's token store: `given` (tests, embedding) or the store TOKEN_STORE
 * names (on `redis`, the module's connection, for `redis`), added to the readiness checks
 * and closed with the server. Not a decorator: the auth module hands it to the parts that
 * need it, as a plugin option.
 */
export function openTokenStore (fastify: FastifyInstance, redis: RedisClient | undefined, given?: TokenStore): TokenStore {
  const store = given ?? createTokenStore(fastify.config, redis, fastify.log)
  fastify.readinessChecks.set('token-store', () => store.ping())
  fastify.addHook('onClose', async () => { await store.close() })
  return store
}
