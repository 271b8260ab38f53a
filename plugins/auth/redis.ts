import type { FastifyInstance } from 'fastify'
import { createRedisClient, type RedisClient } from '../../src/redis-client.js'

/**
 * The auth module's Redis connection (one node, or a Redis Cluster with REDIS_CLUSTER)
 * when TOKEN_STORE=redis, else undefined; closed with the server. The token store and
 * login throttling share it, so the token store's readiness check covers both.
 */
export function openRedis (fastify: FastifyInstance): RedisClient | undefined {
  const { config } = fastify
  if (config.TOKEN_STORE !== 'redis') return undefined
  const client = createRedisClient(config, fastify.log)
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
