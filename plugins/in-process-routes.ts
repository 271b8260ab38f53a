import { Socket } from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Route constraint for routes that only the process itself may call, through
 * `fastify.inject()`. A request from the network arrives on a net.Socket (or its TLS
 * subclass); an injected one on light-my-request's mock socket. The router then never
 * matches such a route for network requests, which get the same 404 as any unknown path.
 */
export const IN_PROCESS_ONLY = { origin: 'in-process' } as const

const inProcessRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.addConstraintStrategy({
    name: 'origin',
    storage () {
      const handlers = new Map()
      return {
        get: (origin) => handlers.get(origin) ?? null,
        set: (origin, handler) => { handlers.set(origin, handler) }
      }
    },
    deriveConstraint: (request) => request.socket instanceof Socket ? 'network' : 'in-process'
  })
}

export default fp(inProcessRoutes, { name: 'in-process-routes' })
