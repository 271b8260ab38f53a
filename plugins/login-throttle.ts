import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { createRedisClient } from '../src/redis.js'
import { normalizeUsername } from '../src/users/user-store.js'
import type { Credentials } from './auth/schemas.js'

type RateLimiter = ReturnType<FastifyInstance['createRateLimit']>

declare module 'fastify' {
  interface FastifyInstance {
    loginThrottle: {
      /** onRequest hook: every login attempt of one client address counts. */
      perAddress: onRequestHookHandler
      /** Failed logins of one username: peek before verifying, count after a failure. */
      usernameFailures: RateLimiter
    }
  }
}

/** Counters kept in memory: enough that rotating usernames cannot flush the ones under attack. */
const LOCAL_COUNTERS = 50_000

/**
 * Login throttling with @fastify/rate-limit, per client address (all attempts) and per
 * username (failures only, so a password-guessing run against one account is slowed
 * whichever addresses it comes from, while other users' failures never block a login).
 * With TOKEN_STORE=redis the counters live in Redis too, so limits hold across instances;
 * if Redis fails, throttling steps aside and the token store's 503 answers instead.
 * @see {@link https://github.com/fastify/fastify-rate-limit}
 */
const loginThrottle: FastifyPluginAsync = async (fastify) => {
  const { config } = fastify
  const redis = config.TOKEN_STORE === 'redis' ? createRedisClient(config, fastify.log) : undefined
  if (redis !== undefined) fastify.addHook('onClose', async () => { redis.disconnect() })

  await fastify.register(rateLimit, {
    global: false,
    cache: LOCAL_COUNTERS,
    redis,
    nameSpace: `${config.REDIS_KEY_PREFIX}login-throttle:`,
    skipOnError: true,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Too many login attempts; retry in ${context.after}`
    })
  })

  const timeWindow = config.LOGIN_WINDOW_SECONDS * 1000
  fastify.decorate('loginThrottle', {
    perAddress: fastify.rateLimit({
      max: config.LOGIN_MAX_PER_IP,
      timeWindow,
      keyGenerator: (request: FastifyRequest) => `address:${request.ip}`
    }),
    usernameFailures: fastify.createRateLimit({
      max: config.LOGIN_MAX_PER_USERNAME,
      timeWindow,
      keyGenerator: (request: FastifyRequest) => `username:${normalizeUsername((request.body as Credentials).username)}`
    })
  })
}

export default fp(loginThrottle, { name: 'login-throttle', dependencies: ['config'] })
