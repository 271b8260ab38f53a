import type { IncomingMessage } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import authService from '../plugins/auth/index.js'
import businessService from '../plugins/business/index.js'
import configPlugin from '../plugins/config.js'
import cors from '../plugins/cors.js'
import errorHandler from '../plugins/error-handler.js'
import health from '../plugins/health.js'
import inProcessRoutes from '../plugins/in-process-routes.js'
import loadShedding from '../plugins/load-shedding.js'
import metrics from '../plugins/metrics.js'
import openapi from '../plugins/openapi.js'
import securityHeaders from '../plugins/security-headers.js'
import { pathOf } from '../plugins/shared/url-path.js'
import { systemClock, type Clock } from './clock.js'
import { trustedProxies, type Config, type TrustedProxies } from './config.js'
import { readTlsFiles } from './tls-files.js'
import type { TokenStore } from './tokens/token-store.js'

export interface BuildAppOptions {
  /** The configuration, validated once by loadConfig before Fastify exists (never read from process.env here). */
  config: Config
  clock?: Clock
  /** false: no logs. A stream: logs go there (tests read them). Default: stdout at LOG_LEVEL. */
  logger?: false | { stream: DestinationStream }
  /** A store to use instead of the one TOKEN_STORE names. */
  tokenStore?: TokenStore
}

/** The paths the original clients call, served by the routes they became. */
const ORIGINAL_PATHS: Record<string, string> = {
  '/login': '/auth/login',
  '/data': '/business/data'
}

/**
 * The fields that carry secrets, by name: pino writes `[redacted]` for them wherever a
 * line holds them. Named paths only: a wildcard (`*.password`) makes pino run its
 * redactor over every object of every line, the request lines included, which cost
 * every request (BENCHMARKS.md). A request's headers need no path: the `req`
 * serializer below writes none. `err.rawPacket` is the raw bytes of a request Node could
 * not parse (headers and body: credentials included), which Fastify's client-error
 * line logs at trace level.
 */
const REDACTED_PATHS = [
  'password', 'token', 'passwordHash',
  'user.password', 'user.token', 'user.passwordHash',
  'err.rawPacket'
]

/** Fastify's options, the same for the server and for every test. */
export function serverOptions (config: Config, logger: BuildAppOptions['logger']): FastifyServerOptions {
  const https = readTlsFiles(config)
  return {
    logger: logger === false
      ? false
      : {
          level: config.LOG_LEVEL,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          serializers: {
            // The path only: a query string may carry what a client should not have put there.
            req: (request: { method: string, url: string, ip?: string }) => ({
              method: request.method,
              url: pathOf(request.url),
              remoteAddress: request.ip
            })
          },
          ...(logger === undefined ? {} : { stream: logger.stream })
        },
    trustProxy: fastifyTrustProxy(trustedProxies(config)),
    // Bodies here are a few hundred bytes of credentials; anything larger is not ours.
    bodyLimit: 16 * 1024,
    requestTimeout: 30_000,
    // A session id in DELETE /auth/sessions/{id} may be any path segment, answered with the
    // one 404 of an unknown id; the router's default (100 characters) would answer a longer
    // one with a 414 of its own. Node refuses a request line over 16 KiB before this anyway.
    routerOptions: { maxParamLength: 16 * 1024 },
    ajv: {
      // A number is not a password: reject wrong types instead of converting them.
      // `example` is OpenAPI 3.0's keyword for the docs' samples: known, so strict mode takes it.
      customOptions: { coerceTypes: false, keywords: ['example'] }
    },
    rewriteUrl: (request: IncomingMessage) => {
      const url = request.url ?? '/'
      const path = pathOf(url)
      const target = ORIGINAL_PATHS[path]
      return target === undefined ? url : target + url.slice(path.length)
    },
    ...(https === undefined ? {} : { https })
  } as FastifyServerOptions
}

/**
 * Fastify's `trustProxy` for TRUST_PROXY. Fastify 5 fails closed on a bare number
 * (lib/request.js: a hop count "cannot validate the immediate peer"), so hops go as the
 * function proxy-addr calls for each address from the socket outwards: the nearest `hops`
 * are proxies. A list goes as it is: proxy-addr trusts exactly those addresses.
 */
function fastifyTrustProxy (trusted: TrustedProxies): FastifyServerOptions['trustProxy'] {
  return typeof trusted === 'number' ? (_address: string, hop: number) => hop < trusted : trusted
}

/**
 * The whole service in one process: the root plugins (configuration and infrastructure),
 * then the auth service (one module: its stores, cleanup job and routes, encapsulated),
 * then the business service, which reaches auth only through `inject()` on
 * /auth/validateToken. README "Architecture" draws this.
 */
export async function buildApp ({ config, clock = systemClock, logger, tokenStore }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config, logger)).withTypeProvider<TypeBoxTypeProvider>()
  const trusted = trustedProxies(config)
  if (typeof trusted === 'number' && trusted > 0) {
    app.log.warn({ trustProxy: trusted }, 'TRUST_PROXY is a hop count: any client that reaches this server directly can ' +
      'choose its address with X-Forwarded-For; a list of the proxies\' addresses is safer (README, "Behind a proxy")')
  }

  await app.register(configPlugin, { config })
  await app.register(errorHandler)
  await app.register(securityHeaders)
  await app.register(cors)
  await app.register(loadShedding)
  await app.register(openapi)
  await app.register(health)
  await app.register(metrics)
  await app.register(inProcessRoutes)

  await app.register(authService, { prefix: '/auth', clock, tokenStore })
  await app.register(businessService, { prefix: '/business', validateTokenUrl: '/auth/validateToken' })

  await app.ready()
  return app
}
