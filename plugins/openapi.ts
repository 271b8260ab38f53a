import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/** The security schemes that the routes' `security` lists name: one per way of presenting a token. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: '`Authorization: Bearer <token>` (RFC 6750), with the token that POST /auth/login answers'
  },
  tokenHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'token',
    description: '`token: <token>`, the header of the original clients'
  }
} as const

/** Content-Security-Policy of the /docs pages. */
export const DOCS_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"]
}

const DESCRIPTION = [
  'An authentication service (`/auth`) that issues opaque bearer tokens, and a business service',
  '(`/business`) that accepts them. A token dies after `TOKEN_TTL_SECONDS` without use; each',
  'successful use resets that idle lifetime.',
  '',
  'The original clients\' paths `POST /login` and `GET /data` answer exactly as',
  '`POST /auth/login` and `GET /business/data`.'
].join('\n')

/**
 * The OpenAPI 3 document, built by @fastify/swagger from the routes' own schemas (a route
 * with `schema.hide` stays out of it), served at GET /docs/json (and /docs/yaml), with
 * Swagger UI at GET /docs. Registered before every plugin that adds routes (health
 * included), so that its onRoute hook sees each of them. A header that a security scheme
 * names (`authorization`, `token`) is listed as that scheme, not as a parameter.
 */
const openapi: FastifyPluginAsync = async (fastify) => {
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Token authentication service',
        description: DESCRIPTION,
        version: '1.0.0'
      },
      tags: [
        { name: 'auth', description: 'Authentication service: log in and out, sessions' },
        { name: 'business', description: 'Business service: data for a valid token' },
        { name: 'health', description: 'Probes for load balancers and platforms' }
      ],
      components: { securitySchemes: SECURITY_SCHEMES }
    }
  })

  await fastify.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // No call to the public validator: the page loads nothing but its own files.
    uiConfig: { docExpansion: 'list', deepLinking: true, persistAuthorization: false, validatorUrl: null },
    // The API's own policy (security-headers) allows nothing to run; the UI needs its own
    // scripts, styles and images. Its scripts are files of its own ('self'); the bundle
    // injects a style element, hence 'unsafe-inline' for styles only. No
    // upgrade-insecure-requests, which would break the page on http://127.0.0.1.
    staticCSP: DOCS_CSP,
    // The UI's own routes are not part of the API it documents, nor worth a log line each.
    logLevel: 'warn'
  })

  // Beside Fastify's "Server listening at", the page a newcomer wants next.
  fastify.addHook('onListen', async function () {
    const docs = docsUrl(this.listeningOrigin)
    this.log.info({ docs }, `API documentation and Swagger UI at ${docs}`)
  })
}

/** The /docs page at `origin`, as a browser on this machine reaches it: 0.0.0.0 and :: become localhost. */
export function docsUrl (origin: string): string {
  const url = new URL('/docs', origin)
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = 'localhost'
  return url.href
}

export default fp(openapi, { name: 'openapi' })
