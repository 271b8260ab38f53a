import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import fastifySchedule from '@fastify/schedule'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import authRoutes from '../plugins/auth/index.js'
import businessService from '../plugins/business/index.js'
import cleanup from '../plugins/cleanup.js'
import configPlugin from '../plugins/config.js'
import errorHandler from '../plugins/error-handler.js'
import health from '../plugins/health.js'
import inProcessRoutes from '../plugins/in-process-routes.js'
import loadShedding from '../plugins/load-shedding.js'
import loginThrottle from '../plugins/login-throttle.js'
import metrics from '../plugins/metrics.js'
import openapi from '../plugins/openapi.js'
import redis from '../plugins/redis.js'
import securityHeaders from '../plugins/security-headers.js'
import tokenStorePlugin from '../plugins/token-store.js'
import { pathOf } from '../plugins/shared/url-path.js'
import users from '../plugins/users.js'
import { systemClock, type Clock } from './clock.js'
import { loadConfig, trustedProxies, type Config, type ConfigSource, type TrustedProxies } from './config.js'
import type { TokenStore } from './tokens/token-store.js'

export interface BuildAppOptions {
  /** Settings, as an environment would give them; defaults fill the rest. Never read from process.env here. */
  config?: ConfigSource
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
 * Headers and fields that carry secrets; pino replaces them wherever a log line would show
 * them. `err.rawPacket` is the raw bytes of a request Node could not parse (headers and
 * body: credentials included), which Fastify's client-error line logs at trace level.
 */
const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.token', 'req.headers.cookie',
  'password', 'token', 'passwordHash', '*.password', '*.token', '*.passwordHash',
  'err.rawPacket'
]

/** Fastify's options, the same for the server and for every test. */
export function serverOptions (config: Config, logger: BuildAppOptions['logger']): FastifyServerOptions {
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
    ajv: {
      // A number is not a password: reject wrong types instead of converting them.
      customOptions: { coerceTypes: false }
    },
    rewriteUrl: (request: IncomingMessage) => {
      const url = request.url ?? '/'
      const path = pathOf(url)
      const target = ORIGINAL_PATHS[path]
      return target === undefined ? url : target + url.slice(path.length)
    },
    ...(config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined
      ? { https: { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) } }
      : {})
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
 * The whole service in one process: configuration and infrastructure, then the auth
 * service (its stores and cleanup job encapsulated with its routes), then the business
 * service, which reaches auth only through `inject()` on /auth/validateToken.
 */
export async function buildApp (options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig(options.config ?? {})
  const clock = options.clock ?? systemClock
  const app = Fastify(serverOptions(config, options.logger)).withTypeProvider<TypeBoxTypeProvider>()
  const trusted = trustedProxies(config)
  if (typeof trusted === 'number' && trusted > 0) {
    app.log.warn({ trustProxy: trusted }, 'TRUST_PROXY is a hop count: any client that reaches this server directly can ' +
      'choose its address with X-Forwarded-For; a list of the proxies\' addresses is safer (README, "Behind a proxy")')
  }

  await app.register(configPlugin, { config })
  await app.register(errorHandler)
  await app.register(securityHeaders)
  await app.register(loadShedding)
  await app.register(openapi)
  await app.register(health)
  await app.register(metrics)
  await app.register(fastifySchedule)
  await app.register(inProcessRoutes)

  await app.register(async function authService (auth) {
    await auth.register(redis)
    await auth.register(tokenStorePlugin, { store: options.tokenStore })
    await auth.register(users)
    await auth.register(cleanup, { clock })
    await auth.register(loginThrottle)
    await auth.register(authRoutes, { prefix: '/auth', clock })
  })

  await app.register(businessService, { prefix: '/business', validateTokenUrl: '/auth/validateToken' })

  await app.ready()
  return app
}
