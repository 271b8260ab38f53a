import { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Clock } from '../../src/clock.js'
import type { RedisClient } from '../../src/redis-client.js'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import { expiresInSeconds } from '../../src/tokens/lifetime.js'
import type { AttemptCounter, AttemptTaken } from '../../src/throttle/attempt-counter.js'
import { MemoryAttemptCounter } from '../../src/throttle/memory-attempt-counter.js'
import { RedisAttemptCounter } from '../../src/throttle/redis-attempt-counter.js'

export interface LoginThrottle {
  /** onRequest hook: every login attempt of one client address counts (429 past the limit); 503 when its store cannot answer. */
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
 * Login throttling, per client address (every attempt) and per username (password checks,
 * successful ones given back), so a password-guessing run against one account is slowed
 * whichever addresses it comes from, while other users' failures never block a login.
 * Both are AttemptCounters: taken atomically before the work they guard, on the service's
 * clock, in memory or, with TOKEN_STORE=redis, in `redis` (the auth module's connection) so
 * that limits hold across instances, under keys named for what they count:
 * `<REDIS_KEY_PREFIX>login-throttle:address:<address or /64>` and
 * `<REDIS_KEY_PREFIX>login-throttle:username:<normalized username>`.
 * They fail closed: when Redis cannot answer, a login gets 503 before any password check.
 * (@fastify/rate-limit, which counted addresses before, names a limiter's Redis keys
 * `…undefinedundefined-…` when it is not a route's own; its IP normalization stays.)
 */
export function createLoginThrottle (fastify: FastifyInstance, redis: RedisClient | undefined, clock: Clock): LoginThrottle {
  const { config } = fastify
  const windowMs = config.LOGIN_WINDOW_SECONDS * 1000
  const counter = (max: number, keyPrefix: string): AttemptCounter => redis === undefined
    ? new MemoryAttemptCounter({ max, windowMs }, LOCAL_COUNTERS)
    : new RedisAttemptCounter({ client: redis, policy: { max, windowMs }, keyPrefix: `${config.REDIS_KEY_PREFIX}login-throttle:${keyPrefix}` })
  // addressKey says `address:` itself; the login route hands perUsername bare usernames.
  const perAddress = counter(config.LOGIN_MAX_PER_IP, '')

  return {
    perAddress: async (request: FastifyRequest, reply: FastifyReply) => {
      let attempt: AttemptTaken
      try {
        attempt = await perAddress.take(addressKey(request.ip), clock.now())
      } catch (err) {
        throw new StoreUnavailableError(`Login throttle: ${(err as Error).message}`, { cause: err })
      }
      if (!attempt.granted) refuseAttempt(reply, attempt, clock.now(), 'Too many login attempts')
    },
    perUsername: counter(config.LOGIN_MAX_PER_USERNAME, 'username:')
  }
}

/**
 * Refuses a login whose attempt was not granted: 429 with Retry-After until the window
 * ends. Thrown, not sent, so that the error handler answers it in Fastify's shape and the
 * login route's onError hook counts it as a throttled login, whichever budget refused it.
 */
export function refuseAttempt (reply: FastifyReply, refused: AttemptTaken, now: number, reason: string): never {
  const retryIn = expiresInSeconds(refused.resetsAt, now)
  reply.header('retry-after', String(retryIn))
  throw Object.assign(new Error(`${reason}; retry in ${retryIn} seconds`), { statusCode: 429 })
}
