import type { FastifyPluginAsync } from 'fastify'
import { AsyncTask, SimpleIntervalJob } from 'toad-scheduler'
import type { Clock } from '../../src/clock.js'
import { removeExpiredTokens } from '../../src/tokens/remove-expired-tokens.js'
import type { TokenStore } from '../../src/tokens/token-store.js'
import type { AuthMetrics } from './metrics.js'

export const CLEANUP_JOB_ID = 'remove-expired-tokens'

export interface CleanupOptions {
  tokenStore: TokenStore
  clock: Clock
  metrics: Pick<AuthMetrics, 'observeCleanup'>
  intervalSeconds: number
}

/**
 * Runs removeExpiredTokens every `intervalSeconds` (CLEANUP_INTERVAL_SECONDS) through
 * @fastify/schedule, which the auth module registers first and which stops the job when
 * the server closes. Expired sessions already fail validation; this job is what keeps
 * memory from growing with them.
 */
const cleanup: FastifyPluginAsync<CleanupOptions> = async (fastify, { tokenStore, clock, metrics, intervalSeconds }) => {
  const task = new AsyncTask(
    CLEANUP_JOB_ID,
    async () => { await removeExpiredTokens(tokenStore, clock, fastify.log, metrics.observeCleanup) },
    (err) => { fastify.log.error({ err }, 'token cleanup failed') }
  )
  fastify.scheduler.addSimpleIntervalJob(new SimpleIntervalJob(
    { seconds: intervalSeconds },
    task,
    { id: CLEANUP_JOB_ID, preventOverrun: true }
  ))
}

export default cleanup
