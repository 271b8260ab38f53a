import type { ServerResponse } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route's answers carry no protective headers (the internal validateToken: only the business service reads it). */
    securityHeaders?: boolean
  }
}

/** Helmet's protections, set for a JSON API: nothing may be framed, embedded or run from its answers. */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] }
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  frameguard: { action: 'deny' }
}

/**
 * The headers helmet sets with these options, asked of it once: with static options
 * they depend on nothing in the request. (X-Powered-By, which helmet removes, is never
 * set by Fastify.)
 */
function helmetHeaders (options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader (name: string, value: string) { headers[name.toLowerCase()] = value },
    removeHeader () {}
  } as unknown as ServerResponse
  helmet(options)({} as never, recorder, (err?: unknown) => { if (err !== undefined) throw err })
  return headers
}

/**
 * The protective headers of helmet on every answer (404s and errors included), but the
 * routes that opt out with `config: { securityHeaders: false }`. Computed once at start
 * and copied onto each reply: @fastify/helmet would build every helmet middleware again
 * for each request (BENCHMARKS.md). The /docs page sets its own, looser policy.
 * @see {@link https://helmetjs.github.io/}
 */
const securityHeaders: FastifyPluginAsync = async (fastify) => {
  const headers = helmetHeaders(HELMET_OPTIONS)
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.securityHeaders !== false) reply.headers(headers)
    done()
  })
}

export default fp(securityHeaders, { name: 'security-headers' })
