import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { RedisClient } from '../../src/redis-client.js'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import type { AttemptCounter } from '../../src/throttle/attempt-counter.js'
import { MemoryAttemptCounter } from '../../src/throttle/memory-attempt-counter.js'
import { RedisAttemptCounter } from '../../src/throttle/redis-attempt-counter.js'

export interface LoginThrottle {
  /** onRequest hook: every login attempt of one client address counts; 503 when its store cannot answer. */
  perAddress: onRequestAsyncHookHandler
  /**
   * Password checks per username (normalized): one is taken before each check, so that
   * concurrent guesses cannot pass the limit, and given back when the login succeeds.
   */
  perUsername: AttemptCounter
}

/** Counters kept in memory: enough that rotating usernames cannot flush the ones under attack. */
const LOCAL_COUNTERS = 50_000

/**
 * The prefix one IPv6 client is counted by. A /64 is the smallest network handed to a
 * subscriber or a LAN (RFC 6177; SLAAC needs it), so one client can rotate addresses
 * inside its /64 at will, but rarely has more than a few /64s; a wider prefix would make
 * the neighbours of a provider's customers share one count.
 */
const IPV6_CLIENT_PREFIX = 64

/**
 * The per-address throttling key of a client address: an IPv6 address stands for its /64,
 * an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack socket gives) for the
 * IPv4 address. @fastify/rate-limit's own normalization, which its default key applies.
 */
export function addressKey (ip: string): string {
  return `address:${normalizeIP(ip, IPV6_CLIENT_PREFIX)}`
}

/**
 * Login throttling: per client address (all attempts) with @fastify/rate-limit, and per
 * username (password checks, successful ones given back) with an AttemptCounter, so a
 * password-guessing run against one account is slowed whichever addresses it comes from,
 * while other users' failures never block a login. With TOKEN_STORE=redis both count in
 * `redis`, the auth module's connection, so limits hold across instances. They fail
 * closed: when Redis cannot answer, a login gets 503 before any password check, whatever
 * the password. Registered on the auth module's own context, which alone sees
 * rate-limit's decorators.
 * @see {@link https://github.com/fastify/fastify-rate-limit}
 */
export async function createLoginThrottle (fastify: FastifyInstance, redis: RedisClient | undefined): Promise<LoginThrottle> {
  const { config } = fastify
  const nameSpace = `${config.REDIS_KEY_PREFIX}login-throttle:`
  const timeWindow = config.LOGIN_WINDOW_SECONDS * 1000

  await fastify.register(rateLimit, {
    global: false,
    cache: LOCAL_COUNTERS,
    redis,
    nameSpace,
    // A count that cannot be read must not wave attempts through (perAddress turns it into a 503).
    skipOnError: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Too many login attempts; retry in ${context.after}`
    })
  })
  const addressLimit = fastify.rateLimit({
    max: config.LOGIN_MAX_PER_IP,
    timeWindow,
    keyGenerator: (request: FastifyRequest) => addressKey(request.ip)
  })

  const usernamePolicy = { max: config.LOGIN_MAX_PER_USERNAME, windowMs: timeWindow }
  return {
    perAddress: async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      try {
        await addressLimit.call(this, request, reply)
      } catch (err) {
        // rate-limit throws the 429 answer built above, or its store's failure.
        if ((err as { statusCode?: number }).statusCode === 429) throw err
        throw new StoreUnavailableError(`Login throttle: ${(err as Error).message}`, { cause: err })
      }
    },
    perUsername: redis === undefined
      ? new MemoryAttemptCounter(usernamePolicy, LOCAL_COUNTERS)
      : new RedisAttemptCounter({ client: redis, policy: usernamePolicy, keyPrefix: `${nameSpace}username:` })
  }
}
