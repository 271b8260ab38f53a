import { Redis } from 'ioredis'
import { describe, it } from 'vitest'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { RedisTokenStore } from '../../src/tokens/redis-token-store.js'
import { freePort } from '../../bench/free-port.js'
import { withRedisKeyExpiry } from '../helpers/redis-key-expiry.js'
import { RedisServer } from '../helpers/redis-server.js'
import { deleteKeys, uniquePrefix } from '../helpers/redis.js'
import { skipWithout } from '../helpers/system-binaries.js'
import { checkAgainstModel, MODEL_POLICY } from './token-store.model.js'

/*
 * Random sequences of issue, reinflate, revoke, revokeSession, revokeAllForUser, removeExpired,
 * listForUser and clock moves, checked step by step against a plain model of the
 * contract (token-store.model.ts), for each store (a Redis Cluster's run is in
 * redis-cluster-token-store.test.ts, beside its cluster).
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

  // A redis-server of the test's own, whose key count is the model's alone (size() is checked
  // after every command): skipped without redis-server outside CI, failed in CI.
  it.skipIf(skipWithout('redis-server', 'the Redis store\'s model test'))('the Redis store behaves as the model', async () => {
    const server = new RedisServer(await freePort())
    await server.start()
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 })
    try {
      await checkAgainstModel({
        numRuns: 50,
        resolutionMs: 1000,
        makeStore: async () => {
          const keyPrefix = uniquePrefix()
          const store = new RedisTokenStore({ client, policy: MODEL_POLICY, keyPrefix })
          return { store: withRedisKeyExpiry(store, client, keyPrefix), release: () => deleteKeys(client, keyPrefix) }
        }
      })
    } finally {
      client.disconnect()
      await server.stop()
    }
  }, 60_000)
})
