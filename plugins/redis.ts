import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { createRedisClient, type RedisClient } from '../src/redis-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The auth service's Redis connection when TOKEN_STORE=redis, else undefined. Tokens and
     * login throttling share it, so the token store's readiness check covers both.
     */
    redis: RedisClient | undefined
  }
}

/** Opens the Redis connection (one node, or a cluster) TOKEN_STORE=redis needs, and closes it with the server. */
const redisPlugin: FastifyPluginAsync = async (fastify) => {
  const { config } = fastify
  const client = config.TOKEN_STORE === 'redis' ? createRedisClient(config, fastify.log) : undefined
  fastify.decorate<RedisClient | undefined>('redis', client)
  if (client === undefined) return
  fastify.addHook('onClose', async () => {
    try {
      await client.quit()
    } catch {
      // Redis is gone already: nothing left to close.
      client.disconnect()
    }
  })
}

export default fp(redisPlugin, { name: 'redis', dependencies: ['config'] })
