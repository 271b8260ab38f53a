import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tokenRouteSchema } from '../../shared/bearer.js'
import { errorResponse, sendError } from '../../shared/errors.js'
import { noContentResponse, SessionParamsSchema } from '../schemas.js'
import { sessionOf } from '../validation.js'
import type { SessionsOptions } from './sessions.js'

/** What GET /auth/sessions needs, to act on what it lists. */
export type RevokeSessionOptions = SessionsOptions

/**
 * DELETE /auth/sessions/{id}: ends one session of the user of the request's token, the
 * request's own included. Another user's id, an unknown, expired or malformed one: the
 * same 404, after the same lookup, so that ids cannot be probed.
 */
const revokeSession: FastifyPluginAsyncTypebox<RevokeSessionOptions> = async (fastify, { tokenStore, validation, clock }) => {
  fastify.delete('/sessions/:id', {
    preHandler: validation.requireSession,
    schema: {
      ...tokenRouteSchema('auth', 'End one session of the user of the request, by its id', {
        204: noContentResponse('Session ended: its token no longer validates'),
        404: errorResponse('No such session of this user (another user\'s, unknown, expired or ended: the same answer)')
      }),
      params: SessionParamsSchema,
      description: 'Its token no longer validates, on every instance. The id is one that GET /auth/sessions lists; ' +
        'the request\'s own session may be ended too. Any other id (another user\'s, unknown, expired) answers the same 404.'
    }
  }, async (request, reply) => {
    const { username } = sessionOf(request)
    const { id } = request.params
    if (!await tokenStore.revokeSession(username, id, clock.now())) return sendError(reply, 404, 'No such session')
    request.log.info({ username, session: id }, 'session ended')
    return reply.code(204).send(null)
  })
}

export default revokeSession
