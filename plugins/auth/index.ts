import fastifySchedule from '@fastify/schedule'
import type { FastifyPluginAsync } from 'fastify'
import type { Clock } from '../../src/clock.js'
import type { TokenStore } from '../../src/tokens/token-store.js'
import cleanup from './cleanup.js'
import { createLoginThrottle } from './login-throttle.js'
import { createAuthMetrics } from './metrics.js'
import { openRedis } from './redis.js'
import login from './routes/login.js'
import logoutAll from './routes/logout-all.js'
import logout from './routes/logout.js'
import revokeSession from './routes/revoke-session.js'
import sessions from './routes/sessions.js'
import validateToken from './routes/validate-token.js'
import verify from './routes/verify.js'
import { openTokenStore } from './token-store.js'
import { openAuthenticator } from './users.js'
import { createValidation, SESSION_DECORATOR } from './validation.js'

export interface AuthServiceOptions {
  clock: Clock
  /** A store to use instead of the one TOKEN_STORE names (tests, embedding). */
  tokenStore?: TokenStore
}

/**
 * The authentication service, one encapsulated module (registered with the prefix
 * /auth): it opens its Redis connection (TOKEN_STORE=redis), its token store and its
 * users, sets up login throttling and its metrics, then registers its cleanup job and one plugin per route: login, logout,
 * logout-all, sessions (listed, and one ended), the internal validateToken that other services reach through
 * `fastify.inject()`, and, with FORWARD_AUTH, the public verify for reverse proxies.
 *
 * Its parts get what they need as typed plugin options, never as decorators: the
 * Plugins guide passes a dependency in register's `options`
 * (https://fastify.dev/docs/latest/Guides/Plugins-Guide/), and the TypeScript reference
 * warns that typing a decorator by module augmentation "modifies the Fastify instance
 * globally" (https://fastify.dev/docs/latest/Reference/TypeScript/#getdecoratort). So
 * outside this module, `fastify.tokenStore` is a type error as well as undefined
 * (test/types/auth-boundary.test.ts). fastify/demo groups a feature the same way
 * (src/modules/auth) and builds its services with createXxx factories as here, but
 * decorates them globally (`declare module 'fastify'`), which is the part not followed.
 * The one decorator, the request's session, is declared on this context only and read
 * with getDecorator<T>, the typing that reference gives for scoped decorators.
 */
const authService: FastifyPluginAsync<AuthServiceOptions> = async (fastify, { clock, tokenStore: givenStore }) => {
  const redis = openRedis(fastify)
  const tokenStore = openTokenStore(fastify, redis, givenStore)
  const metrics = createAuthMetrics(fastify.metrics.registry, tokenStore, fastify.log)
  const authenticator = await openAuthenticator(fastify, tokenStore)
  const throttle = createLoginThrottle(fastify, redis, clock)
  const validation = createValidation({ tokenStore, metrics, clock })
  fastify.decorateRequest(SESSION_DECORATOR, null)

  await fastify.register(fastifySchedule)
  await fastify.register(cleanup, { tokenStore, clock, metrics, intervalSeconds: fastify.config.CLEANUP_INTERVAL_SECONDS })

  await fastify.register(login, { tokenStore, authenticator, throttle, metrics, clock })
  await fastify.register(logout, { tokenStore, clock })
  await fastify.register(logoutAll, { tokenStore, validation })
  await fastify.register(sessions, { tokenStore, validation, clock })
  await fastify.register(revokeSession, { tokenStore, validation, clock })
  await fastify.register(validateToken, { validation, clock })
  if (fastify.config.FORWARD_AUTH) await fastify.register(verify, { validation, clock })
}

export default authService
