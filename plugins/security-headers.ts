import helmet from '@fastify/helmet'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The protective headers of @fastify/helmet, set for a JSON API: nothing may be framed,
 * embedded or run from its answers. The /docs page sets its own, looser policy.
 * @see {@link https://github.com/fastify/fastify-helmet}
 */
const securityHeaders: FastifyPluginAsync = async (fastify) => {
  await fastify.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] }
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' }
  })
}

export default fp(securityHeaders, { name: 'security-headers' })
