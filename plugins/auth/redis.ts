import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { createRedisClient } from '../../src/redis-client.js'

/**
 * The auth module's Redis connection when TOKEN_STORE=redis, else undefined; closed with
 * the server. The token store and login throttling share it, so the token store's
 * readiness check covers both.
 */
export function openRedis (fastify: FastifyInstance): Redis | undefined {
  const { config } = fastify
  if (config.TOKEN_STORE !== 'redis') return undefined
  const client = createRedisClient(config.REDIS_URL, fastify.log)
  fastify.addHook('onClose', async () => {
    try {
      await client.quit()
    } catch {
      // Redis is gone already: nothing left to close.
      client.disconnect()
    }
  })
  return client
}
