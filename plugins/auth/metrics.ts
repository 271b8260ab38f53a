import type { FastifyBaseLogger } from 'fastify'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { CleanupRun } from '../../src/tokens/remove-expired-tokens.js'
import type { TokenStore } from '../../src/tokens/token-store.js'

export { CLEANUP_OUTCOMES } from '../../src/tokens/remove-expired-tokens.js'

/** How a login ended: a fixed set, never the username. */
export const LOGIN_OUTCOMES = ['success', 'failure', 'invalid_request', 'throttled', 'unavailable', 'error'] as const
export type LoginOutcome = typeof LOGIN_OUTCOMES[number]

/** How a token validation ended: valid, invalid (unknown, expired or revoked), malformed (not even token-shaped). */
export const VALIDATION_OUTCOMES = ['valid', 'invalid', 'malformed'] as const
export type ValidationOutcome = typeof VALIDATION_OUTCOMES[number]

/**
 * What the auth service counts. Recording goes through these methods, whose arguments
 * are typed to fixed sets of label values, so no username, token or raw path can become
 * a label (each would also make a new time series).
 */
export interface AuthMetrics {
  countLogin (outcome: LoginOutcome): void
  countValidation (outcome: ValidationOutcome): void
  /** One cleanup run: how it ended, how long it took, and how many sessions it removed. */
  observeCleanup (run: CleanupRun): void
}

/**
 * The auth service's metrics, on the app's registry (plugins/metrics.ts): logins and
 * validations by outcome, sessions held (read from `tokenStore` at each scrape), and
 * cleanup runs. Recorded always; served at GET /metrics when METRICS=true.
 */
export function createAuthMetrics (registry: Registry, tokenStore: TokenStore, log: FastifyBaseLogger): AuthMetrics {
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
  // eslint-disable-next-line no-new -- registered in `registry`, read only through it
  new Gauge({
    name: 'auth_tokens_stored',
    help: 'Tokens in the store: the live ones, plus expired ones that cleanup has not removed yet',
    registers: [registry],
    async collect () {
      try {
        this.set(await tokenStore.size())
      } catch (err) {
        // The store is down: the last value stays, and readiness says the rest.
        log.warn({ err }, 'metrics: could not count the stored tokens')
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

  // Every outcome starts at zero, so that rate() and alerts see a series before its first event.
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  for (const outcome of VALIDATION_OUTCOMES) validations.inc({ outcome }, 0)

  return {
    countLogin: (outcome) => { logins.inc({ outcome }) },
    countValidation: (outcome) => { validations.inc({ outcome }) },
    observeCleanup: ({ outcome, seconds, removed }) => {
      cleanupDuration.observe({ outcome }, seconds)
      if (removed > 0) cleanupRemoved.inc(removed)
    }
  }
}
