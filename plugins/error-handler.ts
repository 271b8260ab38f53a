import type { FastifyError, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { StoreUnavailableError } from '../src/store-unavailable-error.js'
import { errorBody } from './shared/errors.js'
import { pathOf } from './shared/url-path.js'

/**
 * One error policy for every route, and the answer to unknown routes: client errors keep Fastify's answer (status, code
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
    // docs/CONTRACT.md: a body that is not JSON is a 400, where Fastify would answer 415 (a
    // Content-Type it has no parser for, or cannot even parse, such as `content-type: json`).
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(400).send({ ...errorBody(400, 'The body must be JSON (Content-Type: application/json)'), code: error.code })
    }
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    // 503 is load shedding (@fastify/under-pressure): its message is meant for the client.
    if (statusCode >= 500 && statusCode !== 503) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(statusCode).send(errorBody(statusCode, 'The service failed to answer this request'))
    }
    return reply.code(statusCode).send({ ...errorBody(statusCode, error.message), code: error.code })
  })

  // Fastify's own 404 handler logs the URL with its query string, where a client may have put a token.
  fastify.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url)
    request.log.info({ path }, 'route not found')
    return reply.code(404).send(errorBody(404, `Route ${request.method}:${path} not found`))
  })
}

export default fp(errorHandler, { name: 'error-handler' })
