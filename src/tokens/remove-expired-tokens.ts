import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { TokenStore } from './token-store.js'

/** How a cleanup run ended. */
export const CLEANUP_OUTCOMES = ['success', 'failure'] as const
export type CleanupOutcome = typeof CLEANUP_OUTCOMES[number]

/** One cleanup run, for whoever keeps count (the auth service's metrics). */
export interface CleanupRun {
  outcome: CleanupOutcome
  /** Its duration in real time, not the clock's. */
  seconds: number
  /** Sessions it removed. */
  removed: number
}

/**
 * One cleanup run: removes the sessions expired at the clock's now and logs the counts.
 * Expired sessions already fail validation; removing them is what keeps the store from
 * growing with them. `onRun` hears of every run, failed ones included; a failure is
 * then thrown on.
 */
export async function removeExpiredTokens (
  store: TokenStore, clock: Clock, log: Logger, onRun?: (run: CleanupRun) => void
): Promise<number> {
  const started = performance.now()
  let removed = 0
  let remaining: number
  try {
    removed = await store.removeExpired(clock.now())
    remaining = await store.size()
  } catch (err) {
    onRun?.({ outcome: 'failure', seconds: (performance.now() - started) / 1000, removed })
    throw err
  }
  onRun?.({ outcome: 'success', seconds: (performance.now() - started) / 1000, removed })
  if (removed > 0) log.info({ removed, remaining }, 'expired tokens removed')
  else log.debug({ removed, remaining }, 'no expired tokens')
  return removed
}
