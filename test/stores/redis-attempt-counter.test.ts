import { Redis } from 'ioredis'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { RedisAttemptCounter } from '../../src/throttle/redis-attempt-counter.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { deleteKeys, keysUnder, skipWithoutRedis, TEST_REDIS_URL, testRedisClient, uniquePrefix } from '../helpers/redis.js'
import { ATTEMPT_POLICY, describeAttemptCounter } from './attempt-counter.contract.js'

// Every test of this file needs Redis: skipped without one outside CI, failed in CI.
const skipped = skipWithoutRedis('the RedisAttemptCounter tests')
beforeEach(({ skip }) => skip(skipped))

// Connected by its first command, so never when the tests are skipped.
const sharedClient = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(sharedClient, prefix)
  sharedClient.disconnect()
})

describeAttemptCounter('RedisAttemptCounter', async (policy) => {
  const keyPrefix = uniquePrefix()
  prefixes.push(keyPrefix)
  return new RedisAttemptCounter({ client: sharedClient, policy, keyPrefix })
})

describe('RedisAttemptCounter', () => {
  it('shares one budget between counters on one Redis, as instances do', async () => {
    const keyPrefix = uniquePrefix()
    const clock = new FakeClock()
    const counters = [testRedisClient(keyPrefix), testRedisClient()]
      .map((client) => new RedisAttemptCounter({ client, policy: ATTEMPT_POLICY, keyPrefix }))
    const taken = await Promise.all(Array.from({ length: 40 }, (_, i) => counters[i % 2]!.take('ada', clock.now())))
    expect(taken.filter((attempt) => attempt.granted)).toHaveLength(3)
  })

  it('keeps one key under its prefix, with a Redis TTL ending with the window', async () => {
    const keyPrefix = uniquePrefix()
    const client = testRedisClient(keyPrefix)
    const clock = new FakeClock()
    const counter = new RedisAttemptCounter({ client, policy: ATTEMPT_POLICY, keyPrefix })
    await counter.take('ada@example.com', clock.now())
    clock.advanceSeconds(20)
    await counter.take('ada@example.com', clock.now())
    expect(await keysUnder(client, keyPrefix)).toEqual([`${keyPrefix}ada@example.com`])
    const ttl = await client.pttl(`${keyPrefix}ada@example.com`)
    expect(ttl).toBeGreaterThan(35_000)
    expect(ttl).toBeLessThanOrEqual(40_000)
  })

  it('turns a Redis it cannot reach into StoreUnavailableError, promptly', async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const client = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true })
    client.on('error', () => {})
    const counter = new RedisAttemptCounter({ client, policy: ATTEMPT_POLICY, keyPrefix: uniquePrefix() })
    await expect(counter.take('ada', Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    await expect(counter.giveBack('ada', Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    client.disconnect()
  })
})
