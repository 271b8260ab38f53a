import { Redis } from 'ioredis'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { RedisTokenStore } from '../../src/tokens/redis-token-store.js'
import { digestToken, generateToken } from '../../src/tokens/token.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { deleteKeys, keysUnder, skipWithoutRedis, TEST_REDIS_URL, testRedisClient, uniquePrefix } from '../helpers/redis.js'
import { CONTRACT_POLICY, describeTokenStore } from './token-store.contract.js'

// Every test of this file needs Redis: skipped without one outside CI, failed in CI.
const skipped = skipWithoutRedis('the RedisTokenStore tests')
beforeEach(({ skip }) => skip(skipped))

// One client for the contract suite (connected by its first command, so never when the
// tests are skipped); each store gets its own key prefix.
const sharedClient = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(sharedClient, prefix)
  sharedClient.disconnect()
})

describeTokenStore('RedisTokenStore', async (policy) => {
  const keyPrefix = uniquePrefix()
  prefixes.push(keyPrefix)
  return new RedisTokenStore({ client: sharedClient, policy, keyPrefix })
})

describe('RedisTokenStore', () => {
  function makeStore (client: Redis = testRedisClient(), keyPrefix = uniquePrefix()) {
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix })
    return { store, client, keyPrefix, clock: new FakeClock() }
  }

  it('writes every key under its prefix, and never the raw token', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock } = makeStore(testRedisClient(keyPrefix), keyPrefix)
    const token = generateToken()
    await store.issue(digestToken(token), 'ada@example.com', clock.now())
    await store.reinflate(digestToken(token), clock.now())

    const inspector = testRedisClient()
    const keys = await keysUnder(inspector, keyPrefix)
    expect(keys.sort()).toEqual([
      `${keyPrefix}expiries`, `${keyPrefix}token:${digestToken(token)}`, `${keyPrefix}user:ada@example.com`
    ])
    const everything = JSON.stringify([
      keys,
      await inspector.hgetall(`${keyPrefix}token:${digestToken(token)}`),
      await inspector.zrange(`${keyPrefix}user:ada@example.com`, '0', '-1'),
      await inspector.zrange(`${keyPrefix}expiries`, '0', '-1')
    ])
    expect(everything).not.toContain(token)
  })

  it('gives each token a Redis TTL ending at its expiry, renewed by each validation', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock, client } = makeStore(testRedisClient(keyPrefix), keyPrefix)
    const digest = digestToken(generateToken())
    await store.issue(digest, 'ada@example.com', clock.now())
    clock.advanceSeconds(20)
    await store.reinflate(digest, clock.now())
    const ttl = await client.pttl(`${keyPrefix}token:${digest}`)
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    expect(await client.pttl(`${keyPrefix}user:ada@example.com`)).toBeGreaterThan(25_000)
  })

  it('loses no refresh when two instances reinflate the same token at once', async () => {
    const keyPrefix = uniquePrefix()
    const first = makeStore(testRedisClient(keyPrefix), keyPrefix)
    const second = makeStore(testRedisClient(), keyPrefix)
    const digest = digestToken(generateToken())
    await first.store.issue(digest, 'ada@example.com', first.clock.now())
    const now = first.clock.now() + 1000
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? first : second).store.reinflate(digest, now)))
    expect(results.map((record) => record?.refreshCount).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })

  it('does not resurrect a token that one instance revokes while another reinflates it', async () => {
    const keyPrefix = uniquePrefix()
    const first = makeStore(testRedisClient(keyPrefix), keyPrefix)
    const second = makeStore(testRedisClient(), keyPrefix)
    const digest = digestToken(generateToken())
    await first.store.issue(digest, 'ada@example.com', first.clock.now())
    await Promise.all([first.store.revoke(digest, first.clock.now()), second.store.reinflate(digest, first.clock.now())])
    expect(await second.store.reinflate(digest, first.clock.now())).toBeNull()
    expect(await keysUnder(first.client, `${keyPrefix}token:`)).toEqual([])
  })

  it('sends a script\'s body at most once, and calls it by SHA afterwards', async () => {
    const keyPrefix = uniquePrefix()
    const client = testRedisClient(keyPrefix)
    const { store, clock } = makeStore(client, keyPrefix)
    await store.issue(digestToken(generateToken()), 'ada@example.com', clock.now())
    const sent: string[] = []
    const originalSend = client.sendCommand.bind(client)
    client.sendCommand = ((command: { name: string }) => {
      sent.push(command.name.toLowerCase())
      return originalSend(command as never)
    }) as typeof client.sendCommand
    for (let i = 0; i < 5; i++) await store.issue(digestToken(generateToken()), 'ada@example.com', clock.now())
    expect(sent).toEqual(Array(5).fill('evalsha'))
  })

  it('turns a Redis it cannot reach into StoreUnavailableError, promptly', async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const client = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true })
    client.on('error', () => {})
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix: uniquePrefix() })
    await expect(store.ping()).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    await expect(store.reinflate(digestToken(generateToken()), Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    client.disconnect()
  })
})
