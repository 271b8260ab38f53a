import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'
import type { Clock } from '../../../src/clock.js'
import { expiresInSeconds } from '../../../src/tokens/lifetime.js'
import { IN_PROCESS_ONLY } from '../../in-process-routes.js'
import { ErrorSchema } from '../../shared/errors.js'
import { ValidateTokenRequestSchema, ValidateTokenResponseSchema } from '../../shared/token-validation.js'
import type { Validation } from '../validation.js'

export interface ValidateTokenOptions {
  validation: Pick<Validation, 'validate'>
  clock: Clock
}

/**
 * POST /auth/validateToken, the internal route through which other services (business)
 * validate a token with `fastify.inject()`: the contract of plugins/shared/token-validation.ts.
 * The network never reaches it (IN_PROCESS_ONLY: a 404 from outside).
 */
const validateToken: FastifyPluginAsyncTypebox<ValidateTokenOptions> = async (fastify, { validation, clock }) => {
  fastify.post('/validateToken', {
    constraints: IN_PROCESS_ONLY,
    // The business request that injects this one is logged already; one line per call is enough.
    logLevel: 'warn',
    // Every business request costs one of these calls: no per-call pino child unless a line is
    // written, and no security headers on an answer only the business service reads (BENCHMARKS.md).
    childLoggerFactory: warnOnlyChildLogger,
    config: { securityHeaders: false, requestMetrics: false },
    schema: {
      hide: true,
      body: ValidateTokenRequestSchema,
      response: { 200: ValidateTokenResponseSchema, 503: ErrorSchema }
    }
  }, async (request) => {
    const now = clock.now()
    const session = await validation.validate(request.body.token, now)
    if (session === null) return { authenticated: false as const }
    return { authenticated: true as const, username: session.username, expiresIn: expiresInSeconds(session.expiresAt, now) }
  })
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

export default validateToken
