import { describe, it } from 'vitest'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { RedisTokenStore } from '../../src/tokens/redis-token-store.js'
import { deleteKeys, skipWithoutRedis, testRedisClient, uniquePrefix } from '../helpers/redis.js'
import { checkAgainstModel, MODEL_POLICY } from './token-store.model.js'

/*
 * Random sequences of issue, reinflate, revoke, revokeSession, revokeAllForUser, removeExpired,
 * listForUser and clock moves, checked step by step against a plain model of the
 * contract (token-store.model.ts), for each store.
 */
describe('TokenStore against its model', () => {
  it('the memory store behaves as the model, to the millisecond', async () => {
    await checkAgainstModel({
      numRuns: 200,
      resolutionMs: 1,
      makeStore: async () => {
        const store = new MemoryTokenStore(MODEL_POLICY)
        return { store, release: () => store.close() }
      }
    })
  }, 60_000)

  // Real Redis at TEST_REDIS_URL: skipped without one outside CI, failed in CI.
  it.skipIf(skipWithoutRedis('the Redis store\'s model test'))('the Redis store behaves as the model', async () => {
    const client = testRedisClient()
    await client.ping()
    await checkAgainstModel({
      numRuns: 50,
      resolutionMs: 1000,
      makeStore: async () => {
        const keyPrefix = uniquePrefix()
        const store = new RedisTokenStore({ client, policy: MODEL_POLICY, keyPrefix })
        return { store, release: () => deleteKeys(client, keyPrefix) }
      }
    })
  }, 60_000)
})
