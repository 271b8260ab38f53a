import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { Type } from 'typebox'

/** How a login ended, from the status code it answered: a fixed set, never the username. */
export const LOGIN_OUTCOMES = ['success', 'failure', 'invalid_request', 'throttled', 'unavailable', 'error'] as const
export type LoginOutcome = typeof LOGIN_OUTCOMES[number]

/** How a token validation ended: valid, invalid (unknown, expired or revoked), malformed (not even token-shaped). */
export const VALIDATION_OUTCOMES = ['valid', 'invalid', 'malformed'] as const
export type ValidationOutcome = typeof VALIDATION_OUTCOMES[number]

/** How a cleanup run ended. */
export const CLEANUP_OUTCOMES = ['success', 'failure'] as const
export type CleanupOutcome = typeof CLEANUP_OUTCOMES[number]

/** The `route` label of a request that matched no route (404): one value, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * The service's metrics. Recording goes through these methods, whose arguments are
 * typed to fixed sets of label values, so no username, token or raw path can become a
 * label (each would also make a new time series).
 */
export interface Metrics {
  /** This app's registry: its own, never prom-client's global one, so that apps in one process do not collide. */
  readonly registry: Registry
  countLogin (outcome: LoginOutcome): void
  countValidation (outcome: ValidationOutcome): void
  /** One cleanup run: how it ended, how long it took, and how many tokens it removed. */
  observeCleanup (outcome: CleanupOutcome, seconds: number, removed: number): void
  /** Where the tokens gauge reads its value when scraped: the auth service's token store. */
  setTokenCount (source: () => Promise<number>): void
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route's requests are not timed (the internal validateToken: part of the request that injected it). */
    requestMetrics?: boolean
  }
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** Logins by the status code that POST /auth/login answered. */
export function loginOutcome (statusCode: number): LoginOutcome {
  switch (statusCode) {
    case 200: return 'success'
    case 401: return 'failure'
    case 400: return 'invalid_request'
    case 429: return 'throttled'
    case 503: return 'unavailable'
    default: return 'error'
  }
}

/** Protocol methods, the one part of a request's label set that a client writes. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * Prometheus metrics, recorded always and served at GET /metrics when METRICS=true:
 * logins and validations by outcome, tokens held, cleanup runs, and request duration
 * by route pattern and status. fp, so that the decorator and the request hook reach
 * the encapsulated services registered after it.
 */
const metrics: FastifyPluginAsyncTypebox = async (fastify) => {
  const registry = new Registry()

  const logins = new Counter({
    name: 'auth_logins_total',
    help: 'Login attempts, by outcome (success, failure, invalid_request, throttled, unavailable, error)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const validations = new Counter({
    name: 'auth_token_validations_total',
    help: 'Token validations (business calls, forward auth, routes that take a token), by outcome (valid, invalid, malformed)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  let tokenCount: (() => Promise<number>) | undefined
  // eslint-disable-next-line no-new -- registered in `registry`, read only through it
  new Gauge({
    name: 'auth_tokens_stored',
    help: 'Tokens in the store: the live ones, plus expired ones that cleanup has not removed yet',
    registers: [registry],
    async collect () {
      if (tokenCount === undefined) return
      try {
        this.set(await tokenCount())
      } catch (err) {
        // The store is down: the last value stays, and readiness says the rest.
        fastify.log.warn({ err }, 'metrics: could not count the stored tokens')
      }
    }
  })
  const cleanupRemoved = new Counter({
    name: 'auth_cleanup_removed_tokens_total',
    help: 'Expired tokens removed by the cleanup job',
    registers: [registry]
  })
  const cleanupDuration = new Histogram({
    name: 'auth_cleanup_duration_seconds',
    help: 'Duration of the cleanup job\'s runs, by outcome (success, failure)',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry]
  })
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by method, route pattern (\'unmatched\' for a 404) and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })

  fastify.decorate('metrics', {
    registry,
    countLogin: (outcome) => { logins.inc({ outcome }) },
    countValidation: (outcome) => { validations.inc({ outcome }) },
    observeCleanup: (outcome, seconds, removed) => {
      cleanupDuration.observe({ outcome }, seconds)
      if (removed > 0) cleanupRemoved.inc(removed)
    },
    setTokenCount: (source) => { tokenCount = source }
  } satisfies Metrics)

  // Every outcome starts at zero, so that rate() and alerts see a series before its first event.
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  for (const outcome of VALIDATION_OUTCOMES) validations.inc({ outcome }, 0)

  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.routeOptions.config.requestMetrics === false) return done()
    requestDuration.observe({
      method: KNOWN_METHODS.has(request.method) ? request.method : 'OTHER',
      // The route's pattern (/auth/sessions), never the raw URL, which a client could vary without end.
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
    done()
  })

  fastify.addHook('onClose', async () => { registry.clear() })

  if (!fastify.config.METRICS) return

  collectDefaultMetrics({ register: registry })

  fastify.get('/metrics', {
    // A scrape every few seconds is not worth a log line each.
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics, in the text exposition format',
      response: {
        200: {
          description: 'The metrics, in Prometheus\'s text exposition format',
          content: { 'text/plain': { schema: Type.String() } }
        }
      }
    }
  }, async (_request, reply) => {
    const body = await registry.metrics()
    return reply.header('content-type', registry.contentType).send(body)
  })
}

export default fp(metrics, { name: 'metrics', dependencies: ['config'] })
