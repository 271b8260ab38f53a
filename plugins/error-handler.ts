import type { FastifyError, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { StoreUnavailableError } from '../src/store-unavailable-error.js'
import { errorBody } from './shared/errors.js'

/**
 * One error policy for every route: client errors keep Fastify's answer (status, code
 * and message, which name the field, never its value); a store that cannot be reached
 * is a 503; anything else is logged and answered 500 without its details.
 * fp, so that the handler is the root's and covers the encapsulated services too.
 */
const errorHandler: FastifyPluginAsync = async (fastify) => {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof StoreUnavailableError) {
      request.log.error({ err: error }, 'store unavailable')
      reply.header('retry-after', '5')
      return reply.code(503).send(errorBody(503, 'A store the service needs cannot be reached; try again shortly'))
    }
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(statusCode).send(errorBody(statusCode, 'The service failed to answer this request'))
    }
    return reply.code(statusCode).send({ ...errorBody(statusCode, error.message), code: error.code })
  })
}

export default fp(errorHandler, { name: 'error-handler' })
