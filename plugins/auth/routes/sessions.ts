import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Clock } from '../../../src/clock.js'
import type { Session, TokenStore } from '../../../src/tokens/token-store.js'
import { tokenRouteSchema } from '../../shared/bearer.js'
import { SessionsResponseSchema, type SessionSummary } from '../schemas.js'
import { sessionOf, type Validation } from '../validation.js'

export interface SessionsOptions {
  tokenStore: TokenStore
  validation: Pick<Validation, 'requireSession'>
  clock: Clock
}

/** GET /auth/sessions: the live sessions of the user of the request's token, the current one marked. */
const sessions: FastifyPluginAsyncTypebox<SessionsOptions> = async (fastify, { tokenStore, validation, clock }) => {
  fastify.get('/sessions', {
    preHandler: validation.requireSession,
    schema: tokenRouteSchema('auth', 'The live sessions of the user of the request', { 200: SessionsResponseSchema })
  }, async (request, reply) => {
    const current = sessionOf(request)
    const live = await tokenStore.listForUser(current.username, clock.now())
    reply.header('cache-control', 'no-store')
    return { sessions: live.map((session) => summaryOf(session, current.id)) }
  })
}

function summaryOf (session: Session, currentId: string): SessionSummary {
  return {
    id: session.id,
    userAgent: session.userAgent,
    address: session.address,
    createdAt: new Date(session.createdAt).toISOString(),
    lastUsedAt: new Date(session.lastUsedAt).toISOString(),
    expiresAt: new Date(session.expiresAt).toISOString(),
    refreshCount: session.refreshCount,
    current: session.id === currentId
  }
}

export default sessions
