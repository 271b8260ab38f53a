import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'
import type { Clock } from '../../src/clock.js'
import { secondsLeft } from '../../src/tokens/lifetime.js'
import { digestToken, generateToken, isTokenShaped } from '../../src/tokens/token.js'
import type { TokenRecord } from '../../src/tokens/token-store.js'
import type { AuthenticationResult } from '../../src/users/authenticator.js'
import { normalizeUsername } from '../../src/users/user-store.js'
import { IN_PROCESS_ONLY } from '../in-process-routes.js'
import { loginOutcome } from '../metrics.js'
import { readPresentedToken, sendBearerChallenge, tokenRouteSchema } from '../shared/bearer.js'
import { ErrorSchema, sendError } from '../shared/errors.js'
import { ValidateTokenRequestSchema, ValidateTokenResponseSchema } from '../shared/token-validation.js'
import {
  CredentialsSchema, LoginResponseSchema, NoContentSchema, SessionsResponseSchema, VerifyResponseSchema,
  type Session
} from './schemas.js'

export interface AuthRoutesOptions {
  clock: Clock
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The record of the request's token once requireToken has validated (and reinflated) it. */
    validatedToken: TokenRecord | null
  }
}

/**
 * The authentication service's routes: login, logout, logout-all, sessions, the
 * internal validateToken that other services reach through `fastify.inject()`, and,
 * when FORWARD_AUTH is on, the public verify for reverse proxies.
 * Encapsulated: registered with the prefix /auth, beside the token store, users and
 * cleanup it needs, none of which the rest of the process can see.
 */
const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (fastify, { clock }) => {
  const store = fastify.tokenStore

  fastify.decorateRequest('validatedToken', null)

  /** The one validation path (which reinflates a live token), counted by outcome. */
  async function validateToken (token: string, now: number): Promise<TokenRecord | null> {
    if (!isTokenShaped(token)) {
      fastify.metrics.countValidation('malformed')
      return null
    }
    const record = await store.validate(digestToken(token), now)
    fastify.metrics.countValidation(record === null ? 'invalid' : 'valid')
    return record
  }

  /** preHandler for routes that need a live token: validates it (which reinflates it) or answers 400/401. */
  async function requireToken (request: FastifyRequest<{ Headers: { authorization?: string, token?: string } }>, reply: FastifyReply) {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
    const record = await validateToken(presented.token, clock.now())
    if (record === null) return sendBearerChallenge(reply, 'invalid_token')
    request.validatedToken = record
  }

  fastify.post('/login', {
    onRequest: fastify.loginThrottle.perAddress,
    // Credentials are a few hundred bytes; a larger body is not a login.
    bodyLimit: 4096,
    // Counted by the status answered, so that every way a login ends (throttled included) has its outcome.
    onResponse: (_request, reply, done) => {
      fastify.metrics.countLogin(loginOutcome(reply.statusCode))
      done()
    },
    schema: {
      tags: ['auth'],
      summary: 'Log in with an email and a password; answers a bearer token',
      body: CredentialsSchema,
      response: { 200: LoginResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    // The attempt is taken before the password check, atomically: concurrent guesses cannot
    // all pass a count read first. It is given back when no failed check came of it.
    const { perUsername } = fastify.loginThrottle
    const throttleKey = normalizeUsername(username)
    const attempt = await perUsername.take(throttleKey, clock.now())
    if (!attempt.granted) {
      const retryIn = secondsLeft(attempt.resetsAt, clock.now())
      reply.header('retry-after', String(retryIn))
      return sendError(reply, 429, `Too many failed logins for this username; retry in ${retryIn} seconds`)
    }
    let result: AuthenticationResult
    try {
      result = await fastify.authenticator.authenticate(username, password)
    } catch (err) {
      // No check was made (the queue was full, the user store down): the attempt does not count.
      // Best effort: the error that stopped the check, not a failure to give back, is the answer.
      await perUsername.giveBack(throttleKey, clock.now()).catch(() => {})
      throw err
    }
    if (!result.ok) {
      // The username is logged only when it exists: a mistyped password often lands in it.
      request.log.info({ username: result.reason === 'wrong-password' ? result.user.username : undefined, reason: result.reason }, 'login failed')
      return sendError(reply, 401, 'Invalid username or password')
    }
    await perUsername.giveBack(throttleKey, clock.now())
    const token = generateToken(result.user.username)
    const now = clock.now()
    const record = await store.issue(digestToken(token), result.user.username, now)
    request.log.info({ username: record.username, session: record.id }, 'login succeeded')
    reply.header('cache-control', 'no-store')
    return { token, tokenType: 'Bearer' as const, expiresIn: secondsLeft(record.expiresAt, now) }
  })

  fastify.post('/logout', {
    schema: tokenRouteSchema('auth', 'Revoke the token of the request', { 204: NoContentSchema })
  }, async (request, reply) => {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
    const revoked = isTokenShaped(presented.token) ? await store.revoke(digestToken(presented.token), clock.now()) : null
    if (revoked === null) return sendBearerChallenge(reply, 'invalid_token')
    request.log.info({ username: revoked.username, session: revoked.id }, 'logged out')
    return reply.code(204).send(null)
  })

  fastify.post('/logout-all', {
    preHandler: requireToken,
    schema: tokenRouteSchema('auth', 'Revoke every token of the user of the request', { 204: NoContentSchema })
  }, async (request, reply) => {
    const { username } = validated(request)
    const revoked = await store.revokeAllForUser(username)
    request.log.info({ username, revoked }, 'logged out everywhere')
    return reply.code(204).send(null)
  })

  fastify.get('/sessions', {
    preHandler: requireToken,
    schema: tokenRouteSchema('auth', 'The live sessions of the user of the request', { 200: SessionsResponseSchema })
  }, async (request, reply) => {
    const current = validated(request)
    const records = await store.listForUser(current.username, clock.now())
    reply.header('cache-control', 'no-store')
    return { sessions: records.map((record) => toSession(record, current.id)) }
  })

  fastify.post('/validateToken', {
    constraints: IN_PROCESS_ONLY,
    // The business request that injects this one is logged already; one line per call is enough.
    logLevel: 'warn',
    // Every business request costs one of these calls: no per-call pino child unless a line is
    // written, and no security headers on an answer only the business service reads (BENCHMARKS.md).
    childLoggerFactory: warnOnlyChildLogger,
    helmet: false,
    config: { requestMetrics: false },
    schema: {
      hide: true,
      body: ValidateTokenRequestSchema,
      response: { 200: ValidateTokenResponseSchema, 503: ErrorSchema }
    }
  }, async (request) => {
    const { token } = request.body
    const now = clock.now()
    const record = await validateToken(token, now)
    if (record === null) return { authenticated: false }
    return { authenticated: true, username: record.username, expiresIn: secondsLeft(record.expiresAt, now) }
  })

  if (fastify.config.FORWARD_AUTH) {
    // Forward auth (nginx auth_request, Traefik forwardAuth, Caddy forward_auth): the proxy
    // sends the client's headers here and lets the request through on a 2xx. Public, unlike
    // validateToken; it validates exactly as requireToken does, reinflation included.
    fastify.get('/verify', {
      preHandler: requireToken,
      schema: {
        ...tokenRouteSchema('auth', 'Forward auth for reverse proxies: 200 with X-Auth-User for a valid token, 401 otherwise',
          { 200: VerifyResponseSchema }),
        description: 'On only with FORWARD_AUTH=true. The proxy forwards the client\'s `Authorization` or ' +
          '`token` header; a 200 carries the user in `X-Auth-User` (for the proxy to pass upstream) and ' +
          'resets the token\'s idle lifetime.'
      }
    }, async (request, reply) => {
      const record = validated(request)
      reply.header('x-auth-user', record.username)
      reply.header('cache-control', 'no-store')
      return { username: record.username, expiresIn: secondsLeft(record.expiresAt, clock.now()) }
    })
  }
}

/**
 * validateToken's request logger: writes lines at warn and above only (its logLevel),
 * through the pino child Fastify would have made, made the first time a line is written.
 * Fastify otherwise builds that child, with a level change, for every call.
 */
class WarnOnlyLogger implements FastifyBaseLogger {
  level = 'warn'
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = { ...options, level: 'warn' }
  }

  fatal (...args: unknown[]): void { this.#write('fatal', args) }
  error (...args: unknown[]): void { this.#write('error', args) }
  warn (...args: unknown[]): void { this.#write('warn', args) }
  info (): void {}
  debug (): void {}
  trace (): void {}
  silent (): void {}

  child (...args: Parameters<FastifyBaseLogger['child']>): FastifyBaseLogger {
    return this.#logger().child(...args)
  }

  #logger (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  #write (level: 'fatal' | 'error' | 'warn', args: unknown[]): void {
    const logger = this.#logger()
    ;(logger[level] as (...args: unknown[]) => void).apply(logger, args)
  }
}

function warnOnlyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new WarnOnlyLogger(logger, bindings, options)
}

function validated (request: FastifyRequest): TokenRecord {
  if (request.validatedToken === null) throw new Error('route without the requireToken preHandler')
  return request.validatedToken
}

function toSession (record: TokenRecord, currentId: string): Session {
  return {
    id: record.id,
    createdAt: new Date(record.createdAt).toISOString(),
    lastUsedAt: new Date(record.lastUsedAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    refreshCount: record.refreshCount,
    current: record.id === currentId
  }
}

export default authRoutes
