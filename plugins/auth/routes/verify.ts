import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Clock } from '../../../src/clock.js'
import { expiresInSeconds } from '../../../src/tokens/lifetime.js'
import { tokenRouteSchema } from '../../shared/bearer.js'
import { VerifyResponseSchema } from '../schemas.js'
import { sessionOf, type Validation } from '../validation.js'

export interface VerifyOptions {
  validation: Pick<Validation, 'requireSession'>
  clock: Clock
}

/**
 * GET /auth/verify, for forward auth (nginx auth_request, Traefik forwardAuth, Caddy
 * forward_auth): the proxy sends the client's headers here and lets the request through
 * on a 2xx. Public, unlike validateToken; it validates exactly as the other routes that
 * take a token do, reinflation included. Registered only with FORWARD_AUTH=true.
 */
const verify: FastifyPluginAsyncTypebox<VerifyOptions> = async (fastify, { validation, clock }) => {
  fastify.get('/verify', {
    preHandler: validation.requireSession,
    schema: {
      ...tokenRouteSchema('auth', 'Forward auth for reverse proxies: 200 with X-Auth-User for a valid token, 401 otherwise',
        { 200: VerifyResponseSchema }),
      description: 'On only with FORWARD_AUTH=true. The proxy forwards the client\'s `Authorization` or ' +
        '`token` header; a 200 carries the user in `X-Auth-User` (for the proxy to pass upstream) and ' +
        'resets the token\'s idle lifetime.'
    }
  }, async (request, reply) => {
    const session = sessionOf(request)
    reply.header('x-auth-user', session.username)
    reply.header('cache-control', 'no-store')
    return { username: session.username, expiresIn: expiresInSeconds(session.expiresAt, clock.now()) }
  })
}

export default verify
