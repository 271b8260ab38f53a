import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { AsyncTask, SimpleIntervalJob } from 'toad-scheduler'
import type { Clock } from '../src/clock.js'
import type { TokenStore } from '../src/tokens/token-store.js'
import type { Metrics } from './metrics.js'

export const CLEANUP_JOB_ID = 'remove-expired-tokens'

/**
 * One cleanup run: removes the tokens expired at the clock's now and logs the counts.
 * With `metrics`, also records the run (its duration in real time, not the clock's).
 */
export async function removeExpiredTokens (
  store: TokenStore, clock: Clock, log: FastifyBaseLogger, metrics?: Pick<Metrics, 'observeCleanup'>
): Promise<number> {
  const started = performance.now()
  let removed = 0
  let remaining: number
  try {
    removed = await store.removeExpired(clock.now())
    remaining = await store.size()
  } catch (err) {
    metrics?.observeCleanup('failure', (performance.now() - started) / 1000, removed)
    throw err
  }
  metrics?.observeCleanup('success', (performance.now() - started) / 1000, removed)
  if (removed > 0) log.info({ removed, remaining }, 'expired tokens removed')
  else log.debug({ removed, remaining }, 'no expired tokens')
  return removed
}

export interface CleanupOptions {
  clock: Clock
}

/**
 * Runs removeExpiredTokens every CLEANUP_INTERVAL_SECONDS through @fastify/schedule,
 * which stops the job when the server closes. Expired tokens already fail validation;
 * this job is what keeps memory from growing with them.
 */
const cleanup: FastifyPluginAsync<CleanupOptions> = async (fastify, { clock }) => {
  const task = new AsyncTask(
    CLEANUP_JOB_ID,
    async () => { await removeExpiredTokens(fastify.tokenStore, clock, fastify.log, fastify.metrics) },
    (err) => { fastify.log.error({ err }, 'token cleanup failed') }
  )
  fastify.scheduler.addSimpleIntervalJob(new SimpleIntervalJob(
    { seconds: fastify.config.CLEANUP_INTERVAL_SECONDS },
    task,
    { id: CLEANUP_JOB_ID, preventOverrun: true }
  ))
}

export default fp(cleanup, { name: 'cleanup', dependencies: ['config', 'token-store', '@fastify/schedule', 'metrics'] })
