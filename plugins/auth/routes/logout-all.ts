import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { TokenStore } from '../../../src/tokens/token-store.js'
import { tokenRouteSchema } from '../../shared/bearer.js'
import { noContentResponse } from '../schemas.js'
import { sessionOf, type Validation } from '../validation.js'

export interface LogoutAllOptions {
  tokenStore: TokenStore
  validation: Pick<Validation, 'requireSession'>
}

/** POST /auth/logout-all: ends every session of the user of the request's token. */
const logoutAll: FastifyPluginAsyncTypebox<LogoutAllOptions> = async (fastify, { tokenStore, validation }) => {
  fastify.post('/logout-all', {
    preHandler: validation.requireSession,
    schema: tokenRouteSchema('auth', 'Revoke every token of the user of the request', { 204: noContentResponse('Every token of the user revoked') })
  }, async (request, reply) => {
    const { username } = sessionOf(request)
    const revoked = await tokenStore.revokeAllForUser(username)
    request.log.info({ username, revoked }, 'logged out everywhere')
    return reply.code(204).send(null)
  })
}

export default logoutAll
