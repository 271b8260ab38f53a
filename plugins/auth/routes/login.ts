import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError } from 'fastify'
import type { Clock } from '../../../src/clock.js'
import { LimiterFullError } from '../../../src/concurrency-limiter.js'
import { StoreUnavailableError } from '../../../src/store-unavailable-error.js'
import { deviceOf } from '../../../src/tokens/device.js'
import { expiresInSeconds } from '../../../src/tokens/lifetime.js'
import { digestToken, generateToken } from '../../../src/tokens/token.js'
import type { TokenStore } from '../../../src/tokens/token-store.js'
import type { AuthenticationResult, Authenticator } from '../../../src/users/authenticator.js'
import { normalizeUsername } from '../../../src/users/user-store.js'
import { errorResponse, sendError } from '../../shared/errors.js'
import { refuseAttempt, type LoginThrottle } from '../login-throttle.js'
import type { AuthMetrics, LoginOutcome } from '../metrics.js'
import { CredentialsSchema, LoginResponseSchema } from '../schemas.js'

export interface LoginOptions {
  tokenStore: TokenStore
  authenticator: Authenticator
  throttle: LoginThrottle
  metrics: Pick<AuthMetrics, 'countLogin'>
  clock: Clock
}

/** POST /auth/login: a username and a password for a new token. */
const login: FastifyPluginAsyncTypebox<LoginOptions> = async (fastify, { tokenStore, authenticator, throttle, metrics, clock }) => {
  fastify.post('/login', {
    onRequest: throttle.perAddress,
    // Credentials are a few hundred bytes; a larger body is not a login.
    bodyLimit: 4096,
    // The handler counts the outcomes it decides; the others end in an error, counted here.
    onError: (_request, _reply, error, done) => {
      metrics.countLogin(outcomeOfError(error))
      done()
    },
    schema: {
      tags: ['auth'],
      summary: 'Log in with an email and a password; answers a bearer token',
      body: CredentialsSchema,
      response: {
        200: LoginResponseSchema,
        400: errorResponse('Invalid body: a username (an email, without control characters) and a password are required'),
        401: errorResponse('Unknown user or wrong password (one answer for both)'),
        413: errorResponse('A body over 4 KiB: no login is that large'),
        429: errorResponse('Too many login attempts; retry after Retry-After'),
        503: errorResponse('Busy checking passwords, or a store cannot be reached; retry after Retry-After')
      }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    // The attempt is taken before the password check, atomically: concurrent guesses cannot
    // all pass a count read first. It is given back when no failed check came of it.
    const { perUsername } = throttle
    const throttleKey = normalizeUsername(username)
    const attempt = await perUsername.take(throttleKey, clock.now())
    if (!attempt.granted) refuseAttempt(reply, attempt, clock.now(), 'Too many failed logins for this username')
    let result: AuthenticationResult
    try {
      result = await authenticator.authenticate(username, password)
    } catch (err) {
      // No check was made (the queue was full, the user store down): the attempt does not count.
      // Best effort: the error that stopped the check, not a failure to give back, is the answer.
      await perUsername.giveBack(throttleKey, clock.now()).catch(() => {})
      if (!(err instanceof LimiterFullError)) throw err
      metrics.countLogin('unavailable')
      request.log.warn('login refused: password checks queue full')
      reply.header('retry-after', '1')
      return sendError(reply, 503, 'The service is busy checking passwords; retry in a second')
    }
    if (!result.ok) {
      metrics.countLogin('failure')
      // The username is logged only when it exists: a mistyped password often lands in it.
      request.log.info({ username: result.reason === 'wrong-password' ? result.user.username : undefined, reason: result.reason }, 'login failed')
      return sendError(reply, 401, 'Invalid username or password')
    }
    await perUsername.giveBack(throttleKey, clock.now())
    const token = generateToken(result.user.username)
    const now = clock.now()
    const device = deviceOf(request.headers['user-agent'], request.ip)
    const session = await tokenStore.issue(digestToken(token), result.user.username, device, now)
    metrics.countLogin('success')
    request.log.info({ username: session.username, session: session.id }, 'login succeeded')
    reply.header('cache-control', 'no-store')
    return { token, tokenType: 'Bearer' as const, expiresIn: expiresInSeconds(session.expiresAt, now) }
  })
}

/**
 * How a login ended that the handler did not answer: refused before it ran (a body that
 * is not JSON, not credentials or too large; a client address over its limit), or
 * failed under it (a store that cannot be reached, or a fault).
 */
function outcomeOfError (error: FastifyError): LoginOutcome {
  if (error instanceof StoreUnavailableError) return 'unavailable'
  switch (error.statusCode) {
    // 415: a body that is not JSON, which the error handler answers as a 400.
    case 400: case 415: return 'invalid_request'
    case 429: return 'throttled'
    default: return 'error'
  }
}

export default login
