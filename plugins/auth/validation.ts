import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../src/clock.js'
import { digestToken, isTokenShaped } from '../../src/tokens/token.js'
import type { Session, TokenStore } from '../../src/tokens/token-store.js'
import { readPresentedToken, sendBearerChallenge, type BearerHeaders } from '../shared/bearer.js'
import type { AuthMetrics } from './metrics.js'

/**
 * The request decorator in which requireSession leaves the session of the request's
 * token. Declared on the auth module's context only, and read with getDecorator rather
 * than typed into FastifyRequest for the whole program (see index.ts).
 */
export const SESSION_DECORATOR = 'session'

export interface Validation {
  /**
   * The one validation path: the session of a token-shaped token, reinflated, or null
   * for a malformed, unknown, expired or revoked one; counted by outcome.
   */
  validate (token: string, now: number): Promise<Session | null>
  /** preHandler of the routes that need a live session: validates the presented token, or answers 400/401. */
  requireSession (request: FastifyRequest<{ Headers: BearerHeaders }>, reply: FastifyReply): Promise<FastifyReply | undefined>
}

export interface ValidationOptions {
  tokenStore: TokenStore
  metrics: Pick<AuthMetrics, 'countValidation'>
  clock: Clock
}

export function createValidation ({ tokenStore, metrics, clock }: ValidationOptions): Validation {
  async function validate (token: string, now: number): Promise<Session | null> {
    if (!isTokenShaped(token)) {
      metrics.countValidation('malformed')
      return null
    }
    const session = await tokenStore.reinflate(digestToken(token), now)
    metrics.countValidation(session === null ? 'invalid' : 'valid')
    return session
  }

  return {
    validate,
    async requireSession (request, reply) {
      const presented = readPresentedToken(request.headers)
      if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
      const session = await validate(presented.token, clock.now())
      if (session === null) return sendBearerChallenge(reply, 'invalid_token')
      request.setDecorator<Session>(SESSION_DECORATOR, session)
    }
  }
}

/** The session that requireSession found for the request. */
export function sessionOf (request: FastifyRequest): Session {
  const session = request.getDecorator<Session | null>(SESSION_DECORATOR)
  if (session === null) throw new Error('route without the requireSession preHandler')
  return session
}
