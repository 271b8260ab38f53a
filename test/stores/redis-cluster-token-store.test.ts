import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/logger.js'
import { createRedisClient, dataNodes } from '../../src/redis-client.js'
import { RedisTokenStore } from '../../src/tokens/redis-token-store.js'
import { digestToken, generateToken, routingTagOf } from '../../src/tokens/token.js'
import { LAPTOP } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { nodeInfo, skipWithoutRedisCluster, startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js'
import { sessionKeysUnder, withRedisKeyExpiry } from '../helpers/redis-key-expiry.js'
import { uniquePrefix } from '../helpers/redis.js'
import { CONTRACT_POLICY, describeTokenStore } from './token-store.contract.js'
import { checkAgainstModel, MODEL_POLICY } from './token-store.model.js'

// A Redis Cluster of this file's own (3 masters, 3 replicas), through the service's own
// client factory. Skipped without redis-server and redis-cli outside CI, failed in CI.
const skipped = skipWithoutRedisCluster('the Redis Cluster store tests')
beforeEach(({ skip }) => skip(skipped))
let cluster: TestRedisCluster
let client: Cluster
beforeAll(async () => {
  if (skipped) return
  cluster = await startRedisCluster()
  client = createRedisClient({ REDIS_URL: cluster.url, REDIS_CLUSTER: true }, silentLogger) as Cluster
  await new Promise((resolve) => client.once('ready', resolve))
}, 60_000)
afterAll(async () => {
  client?.disconnect()
  await cluster?.stop()
})

describeTokenStore('RedisTokenStore on a Redis Cluster', async (policy) => {
  const keyPrefix = uniquePrefix()
  return withRedisKeyExpiry(new RedisTokenStore({ client, policy, keyPrefix }), client, keyPrefix)
})

describe('RedisTokenStore on a Redis Cluster', () => {
  it('behaves as the model', async () => {
    await checkAgainstModel({
      numRuns: 30,
      resolutionMs: 1000,
      makeStore: async () => {
        const keyPrefix = uniquePrefix()
        const store = new RedisTokenStore({ client, policy: MODEL_POLICY, keyPrefix })
        return { store: withRedisKeyExpiry(store, client, keyPrefix), release: async () => {} }
      }
    })
  }, 60_000)

  it('spreads users over every master, and keeps each user\'s keys in one slot', async () => {
    const keyPrefix = uniquePrefix()
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix })
    const clock = new FakeClock()
    const users = Array.from({ length: 30 }, (_, i) => `spread${i}@example.com`)
    for (const username of users) {
      await store.issue(digestToken(generateToken(username)), username, LAPTOP, clock.now())
      await store.issue(digestToken(generateToken(username)), username, LAPTOP, clock.now())
    }
    expect(await store.size()).toBe(60)

    const perMaster = await Promise.all(dataNodes(client).map(async (node) => (await node.keys(`${keyPrefix}*`)).length))
    expect(perMaster).toHaveLength(3)
    for (const count of perMaster) expect(count).toBeGreaterThan(0)
    for (const username of users) {
      const slotKeys = (await sessionKeysUnder(client, keyPrefix)).filter((key) => key.includes(`{${routingTagOf(username)}}`))
      const slots = new Set(await Promise.all([...slotKeys, `${keyPrefix}{${routingTagOf(username)}}:u:${username}`]
        .map((key) => client.cluster('KEYSLOT', key))))
      expect(slots.size).toBe(1)
    }
    for (const username of users) expect(await store.revokeAllForUser(username)).toBe(2)
    expect(await store.size()).toBe(0)
  })

  it('has a replica confirm every revocation before it answers, so that a failover cannot undo it', async () => {
    const keyPrefix = uniquePrefix()
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix })
    const clock = new FakeClock()
    const username = 'replicated@example.com'
    const master = await cluster.masterOf(`{${routingTagOf(username)}}`)
    const waits = async () => Number(/calls=(\d+)/.exec((await nodeInfo(master.port, 'commandstats')).cmdstat_wait ?? '')?.[1] ?? 0)
    const digests = [digestToken(generateToken(username)), digestToken(generateToken(username))]
    for (const digest of digests) await store.issue(digest, username, LAPTOP, clock.now())

    const before = await waits()
    expect(await store.revoke(digests[0]!, clock.now())).toMatchObject({ username })
    expect(await store.revokeAllForUser(username)).toBe(1)
    expect(await waits()).toBe(before + 2)
    expect(await store.reinflate(digests[1]!, clock.now())).toBeNull()
  })

  it('is ready while the cluster is, and counts the sessions of every master', async () => {
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix: uniquePrefix() })
    await expect(store.ping()).resolves.toBeUndefined()
    expect(await store.size()).toBe(0)
  })
})
