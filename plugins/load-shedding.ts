import underPressure from '@fastify/under-pressure'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Sheds load with 503 and Retry-After when the event loop is saturated, rather than
 * letting every request, liveness probes included, wait behind the backlog.
 * @see {@link https://github.com/fastify/under-pressure}
 */
const loadShedding: FastifyPluginAsync = async (fastify) => {
  await fastify.register(underPressure, {
    // Delay only: a busy but healthy server runs near 100% utilization and must keep serving.
    maxEventLoopDelay: 1000,
    retryAfter: 5,
    pressureHandler: (_request, reply, type, value) => {
      reply.log.warn({ type, value }, 'shedding load')
      reply.header('retry-after', '5')
      reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'The service is overloaded; retry shortly' })
    }
  })
}

export default fp(loadShedding, { name: 'load-shedding' })
