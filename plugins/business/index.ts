import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { readPresentedToken, sendBearerChallenge, tokenRouteSchema } from '../shared/bearer.js'
import { sendError } from '../shared/errors.js'
import type { ValidateTokenRequest, ValidateTokenResponse } from '../shared/token-validation.js'
import { BusinessDataSchema } from './schemas.js'

export interface BusinessServiceOptions {
  /** Where the auth service validates tokens; reached with `fastify.inject()`, in this process. */
  validateTokenUrl: string
}

/**
 * The business service: data for clients whose token the auth service accepts. It
 * knows nothing of tokens beyond the validateToken contract, and asks the auth service
 * through `fastify.inject()`, so either service could move to its own process.
 */
const businessService: FastifyPluginAsyncTypebox<BusinessServiceOptions> = async (fastify, { validateTokenUrl }) => {
  fastify.get('/data', {
    schema: tokenRouteSchema('business', 'Business data, for a client with a valid token', { 200: BusinessDataSchema })
  }, async (request, reply) => {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)

    const answer = await validateThroughInject(fastify, validateTokenUrl, presented.token)
    if (answer.statusCode !== 200) {
      request.log.error({ statusCode: answer.statusCode }, 'the auth service could not validate the token')
      return sendError(reply, 503, 'The authentication service is unavailable; try again shortly')
    }
    const validation = answer.json<ValidateTokenResponse>()
    if (!validation.authenticated) return sendBearerChallenge(reply, 'invalid_token')

    // Per-user data: no shared cache may keep it.
    reply.header('cache-control', 'no-store')
    return {
      data: {
        message: `Hello ${validation.username}, here is your business data`,
        user: validation.username,
        tokenExpiresIn: validation.expiresIn
      }
    }
  })
}

/** The validateToken request's headers: the same for every call (light-my-request copies them). */
const VALIDATE_TOKEN_HEADERS = { 'content-type': 'application/json' }

/**
 * POST validateTokenUrl through `fastify.inject()`, in its cheapest form (BENCHMARKS.md):
 * the callback API, which skips the promise chain object inject builds otherwise; the
 * body serialized once here, as JSON text; and no validation of these fixed options.
 * Exported for the benchmark, which times this very call (bench/inject-child.ts).
 */
export function validateThroughInject (fastify: Pick<FastifyInstance, 'inject'>, url: string, token: string): Promise<LightMyRequestResponse> {
  const body: ValidateTokenRequest = { token }
  const options: InjectOptions = { method: 'POST', url, headers: VALIDATE_TOKEN_HEADERS, payload: JSON.stringify(body), validate: false }
  return new Promise((resolve, reject) => {
    fastify.inject(options, (err, response) => {
      if (err !== undefined && err !== null) reject(err)
      else resolve(response!)
    })
  })
}

export default businessService
