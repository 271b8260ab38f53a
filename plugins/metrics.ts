import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { Type } from 'typebox'

/** The `route` label of a request that matched no route (404): one value, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched'

/** What the root shares with every plugin: the registry, on which each service registers its own metrics. */
export interface Metrics {
  /** This app's registry: its own, never prom-client's global one, so that apps in one process do not collide. */
  readonly registry: Registry
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

/** Protocol methods, the one part of a request's label set that a client writes. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * The Prometheus registry, shared with every plugin as `fastify.metrics.registry`; with
 * METRICS=true, GET /metrics serves it, with the process's default metrics and the
 * duration of every HTTP request by route pattern and status. What a service counts is
 * its own business: the auth service registers its counters here (plugins/auth/metrics.ts),
 * and records them whether served or not. fp, so that the decorator and the request hook
 * reach the encapsulated services registered after it.
 */
const metrics: FastifyPluginAsyncTypebox = async (fastify) => {
  const registry = new Registry()
  fastify.decorate('metrics', { registry } satisfies Metrics)
  fastify.addHook('onClose', async () => { registry.clear() })

  // Unserved, the request durations would cost every request a histogram observation for nobody.
  if (!fastify.config.METRICS) return

  collectDefaultMetrics({ register: registry })

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by method, route pattern (\'unmatched\' for a 404) and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })

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
