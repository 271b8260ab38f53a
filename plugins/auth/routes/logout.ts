import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Clock } from '../../../src/clock.js'
import { digestToken, isTokenShaped } from '../../../src/tokens/token.js'
import type { TokenStore } from '../../../src/tokens/token-store.js'
import { readPresentedToken, sendBearerChallenge, tokenRouteSchema } from '../../shared/bearer.js'
import { noContentResponse } from '../schemas.js'

export interface LogoutOptions {
  tokenStore: TokenStore
  clock: Clock
}

/** POST /auth/logout: ends the session of the request's token (revoked, not reinflated first). */
const logout: FastifyPluginAsyncTypebox<LogoutOptions> = async (fastify, { tokenStore, clock }) => {
  fastify.post('/logout', {
    schema: tokenRouteSchema('auth', 'Revoke the token of the request', { 204: noContentResponse('Token revoked') })
  }, async (request, reply) => {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
    const revoked = isTokenShaped(presented.token) ? await tokenStore.revoke(digestToken(presented.token), clock.now()) : null
    if (revoked === null) return sendBearerChallenge(reply, 'invalid_token')
    request.log.info({ username: revoked.username, session: revoked.id }, 'logged out')
    return reply.code(204).send(null)
  })
}

export default logout
