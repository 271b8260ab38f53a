import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

/** A check that resolves when a dependency (a store) can serve, and rejects otherwise. */
export type ReadinessCheck = () => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** Named checks that GET /health/ready runs; each service adds those of its stores. */
    readinessChecks: Map<string, ReadinessCheck>
  }
}

/** A check slower than this counts as failed, so a hung store cannot hang the probe. */
const CHECK_TIMEOUT_MS = 2000

const LivenessSchema = Type.Object({ status: Type.Literal('ok') }, { description: 'The process serves' })
/** One shape for both answers of readiness; the description names each in the OpenAPI document. */
const readinessResponse = (description: string) => Type.Object({
  status: Type.Enum(['ready', 'unavailable']),
  unavailable: Type.Optional(Type.Array(Type.String(), { description: 'the checks that failed' }))
}, { description })

/**
 * GET /health (liveness: the process serves) and GET /health/ready (readiness: every
 * registered store answers), for load balancers and platform probes.
 */
const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.decorate('readinessChecks', new Map<string, ReadinessCheck>())

  fastify.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness', response: { 200: LivenessSchema } }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness',
      response: {
        200: readinessResponse('Ready: every store answers'),
        503: readinessResponse('Not ready: the stores in unavailable do not answer')
      }
    }
  }, async (request, reply) => {
    const names = [...fastify.readinessChecks.keys()]
    const outcomes = await Promise.allSettled([...fastify.readinessChecks.values()].map((check) => withTimeout(check())))
    const unavailable = names.filter((_, index) => outcomes[index]?.status === 'rejected')
    if (unavailable.length === 0) return { status: 'ready' as const }
    request.log.warn({ unavailable }, 'not ready')
    return reply.code(503).send({ status: 'unavailable' as const, unavailable })
  })
}

function withTimeout (check: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('readiness check timed out')), CHECK_TIMEOUT_MS)
  })
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer))
}

export default fp(health, { name: 'health' })
