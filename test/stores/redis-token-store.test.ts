import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RedisTokenStore } from '../../src/tokens/redis-token-store.js'
import { digestToken, generateToken, routingTagOf, sessionIdOf } from '../../src/tokens/token.js'
import { LAPTOP, NO_USER_AGENT } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { freePort } from '../../bench/free-port.js'
import { expireSessionsAt, sessionKeysUnder, withRedisKeyExpiry } from '../helpers/redis-key-expiry.js'
import { RedisServer } from '../helpers/redis-server.js'
import { keysUnder, testRedisClient, uniquePrefix } from '../helpers/redis.js'
import { skipWithout } from '../helpers/system-binaries.js'
import { CONTRACT_POLICY, describeTokenStore } from './token-store.contract.js'

// A redis-server of this file's own, not the run's shared one: nothing else writes to it,
// so its command counts and key counts are this file's. Skipped without redis-server
// outside CI, failed in CI.
const skipped = skipWithout('redis-server', 'the RedisTokenStore tests')
beforeEach(({ skip }) => skip(skipped))
let server: RedisServer
let sharedClient: Redis
beforeAll(async () => {
  if (skipped) return
  server = new RedisServer(await freePort())
  await server.start()
  sharedClient = new Redis(server.url, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  sharedClient?.disconnect()
  await server?.stop()
})

describeTokenStore('RedisTokenStore', async (policy) => {
  const keyPrefix = uniquePrefix()
  return withRedisKeyExpiry(new RedisTokenStore({ client: sharedClient, policy, keyPrefix }), sharedClient, keyPrefix)
})

/**
 * What `action` sends over `client` (each command and its arguments), and what Redis runs
 * meanwhile: INFO commandstats's calls per command after a RESETSTAT.
 */
async function commandsOf<T> (client: Redis, action: () => Promise<T>) {
  const sent: Array<{ name: string, args: string[] }> = []
  const originalSend = client.sendCommand.bind(client)
  client.sendCommand = ((command: { name: string, args: unknown[] }) => {
    sent.push({ name: command.name.toLowerCase(), args: command.args.map(String) })
    return originalSend(command as never)
  }) as typeof client.sendCommand
  const inspector = testRedisClient(undefined, server.url)
  await inspector.config('RESETSTAT')
  const result = await action()
  const stats = await inspector.info('commandstats')
  client.sendCommand = originalSend
  const calls = Object.fromEntries([...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, name, count]) => [name, Number(count)]))
  return { result, sent, calls }
}

describe('RedisTokenStore', () => {
  function makeStore (client: Redis = testRedisClient(undefined, server.url), keyPrefix = uniquePrefix()) {
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix })
    return { store, client, keyPrefix, clock: new FakeClock() }
  }
  const ada = 'ada@example.com'

  it('writes every key under its prefix, in its user\'s slot, and never the raw token', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock } = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    const token = generateToken(ada)
    const digest = digestToken(token)
    await store.issue(digest, ada, LAPTOP, clock.now())
    await store.reinflate(digest, clock.now())

    const inspector = testRedisClient(undefined, server.url)
    const keys = await keysUnder(inspector, keyPrefix)
    const slot = `${keyPrefix}{${routingTagOf(ada)}}:`
    expect(keys.sort()).toEqual([`${slot}t:${digest.slice(0, -4)}`, `${slot}u:${ada}`])
    const index = await inspector.hgetall(`${slot}u:${ada}`)
    expect(index).toEqual({ [sessionIdOf(digest)]: digest.slice(0, -4) })
    const everything = JSON.stringify([keys, index, (await inspector.getBuffer(`${slot}t:${digest.slice(0, -4)}`))!.toString('latin1')])
    expect(everything).not.toContain(token)
    expect(everything).not.toContain(token.slice(4))
  })

  it('gives each token a Redis TTL ending at its expiry, renewed by each reinflation, and the user index one beyond the absolute lifetime', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock, client } = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    const digest = digestToken(generateToken(ada))
    await store.issue(digest, ada, LAPTOP, clock.now())
    const [sessionKey] = await sessionKeysUnder(client, keyPrefix)
    expect(await client.pttl(sessionKey!)).toBeGreaterThan(25_000)
    expect(await client.pttl(sessionKey!)).toBeLessThanOrEqual(30_000)
    clock.advanceSeconds(20)
    await store.reinflate(digest, clock.now())
    const ttl = await client.pttl(sessionKey!)
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    const indexKey = `${keyPrefix}{${routingTagOf(ada)}}:u:${ada}`
    expect(await client.pttl(indexKey)).toBeGreaterThan(25_000)
    expect(await client.pttl(indexKey)).toBeGreaterThan(120_000)
  })

  it('reinflates with one EVALSHA on the session key alone, which runs GET and SET, nothing else', async () => {
    const keyPrefix = uniquePrefix()
    const client = testRedisClient(keyPrefix, server.url)
    const { store, clock } = makeStore(client, keyPrefix)
    const digest = digestToken(generateToken(ada))
    await store.issue(digest, ada, LAPTOP, clock.now())
    await store.reinflate(digest, clock.now())
    const [sessionKey] = await sessionKeysUnder(client, keyPrefix)

    const { result, sent, calls } = await commandsOf(client, () => store.reinflate(digest, clock.now()))
    expect(result).toMatchObject({ refreshCount: 2 })

    expect(sent).toHaveLength(1)
    expect(sent[0]!.name).toBe('evalsha')
    expect(sent[0]!.args.slice(1, 3)).toEqual(['1', sessionKey])
    // Commands inside the script count too; INFO is counted only once it has answered.
    expect(calls).toEqual({ evalsha: 1, get: 1, set: 1 })
  })

  it('refuses to issue a token made for another user, whose slot it names', async () => {
    const { store, clock } = makeStore()
    await expect(store.issue(digestToken(generateToken('bob@example.com')), ada, LAPTOP, clock.now()))
      .rejects.toThrow('routing tag')
  })

  it('leaves expired tokens to Redis: removeExpired touches nothing, each key\'s TTL removes it', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock, client } = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    await store.issue(digestToken(generateToken(ada)), ada, LAPTOP, clock.now())
    clock.advanceSeconds(31)
    expect(await store.removeExpired(clock.now())).toBe(0)
    const [sessionKey] = await sessionKeysUnder(client, keyPrefix)
    expect(await client.pttl(sessionKey!)).toBeGreaterThan(25_000)
  })

  it('drops the index entries of sessions that are gone at the user\'s next login, so an index stays as small as its live sessions', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock, client } = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    for (let i = 0; i < 5; i++) await store.issue(digestToken(generateToken(ada)), ada, LAPTOP, clock.now())
    clock.advanceSeconds(31)
    expect(await expireSessionsAt(client, keyPrefix, clock.now())).toBe(5)
    const latest = digestToken(generateToken(ada))
    await store.issue(latest, ada, LAPTOP, clock.now())
    expect(await client.hgetall(`${keyPrefix}{${routingTagOf(ada)}}:u:${ada}`)).toEqual({ [sessionIdOf(latest)]: latest.slice(0, -4) })
  })

  it('counts its sessions exactly on a small node, and estimates them within 5 % on a large one', async () => {
    const keyPrefix = uniquePrefix()
    const { store, clock, client } = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    for (let i = 0; i < 20; i++) await store.issue(digestToken(generateToken(`user${i}@example.com`)), `user${i}@example.com`, LAPTOP, clock.now())
    expect(await store.size()).toBe(20)

    // 30 000 more sessions and 15 000 other keys, written by Redis itself in a few calls.
    const fill = `for i = ARGV[2], ARGV[3] do
      redis.call('SET', ARGV[1] .. '{' .. (i % 9973) .. '}:t:' .. i, 'x', 'PX', 600000)
      if i % 2 == 0 then redis.call('SET', ARGV[1] .. 'other:' .. i, 'x', 'PX', 600000) end
    end`
    for (let from = 1; from <= 30_000; from += 5000) await client.eval(fill, 0, keyPrefix, from, from + 4999)
    const exact = (await sessionKeysUnder(client, keyPrefix)).length
    expect(exact).toBe(30_020)
    const estimate = await store.size()
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.05)
  })

  it('loses no refresh when two instances reinflate the same token at once', async () => {
    const keyPrefix = uniquePrefix()
    const first = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    const second = makeStore(testRedisClient(undefined, server.url), keyPrefix)
    const digest = digestToken(generateToken(ada))
    await first.store.issue(digest, ada, LAPTOP, first.clock.now())
    const now = first.clock.now() + 1000
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? first : second).store.reinflate(digest, now)))
    expect(results.map((record) => record?.refreshCount).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })

  it('does not resurrect a token that one instance revokes while another reinflates it', async () => {
    const keyPrefix = uniquePrefix()
    const first = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    const second = makeStore(testRedisClient(undefined, server.url), keyPrefix)
    const digest = digestToken(generateToken(ada))
    await first.store.issue(digest, ada, LAPTOP, first.clock.now())
    await Promise.all([first.store.revoke(digest, first.clock.now()), second.store.reinflate(digest, first.clock.now())])
    expect(await second.store.reinflate(digest, first.clock.now())).toBeNull()
    expect(await sessionKeysUnder(first.client, keyPrefix)).toEqual([])
  })

  it('keeps each session\'s device in its key, and ends a session for every instance at once', async () => {
    const keyPrefix = uniquePrefix()
    const first = makeStore(testRedisClient(keyPrefix, server.url), keyPrefix)
    const second = makeStore(testRedisClient(undefined, server.url), keyPrefix)
    const ended = digestToken(generateToken(ada))
    const kept = digestToken(generateToken(ada))
    await first.store.issue(ended, ada, LAPTOP, first.clock.now())
    await first.store.issue(kept, ada, NO_USER_AGENT, first.clock.now())
    const slot = `${keyPrefix}{${routingTagOf(ada)}}:`
    const stored = (await first.client.getBuffer(`${slot}t:${ended.slice(0, -4)}`))!.toString('utf8')
    expect(stored).toContain(LAPTOP.userAgent)
    expect(stored).toContain(LAPTOP.address)

    expect(await second.store.revokeSession(ada, sessionIdOf(ended), second.clock.now())).toBe(true)
    expect(await first.store.reinflate(ended, first.clock.now())).toBeNull()
    expect(await first.client.exists(`${slot}t:${ended.slice(0, -4)}`)).toBe(0)
    expect(await first.client.hgetall(`${slot}u:${ada}`)).toEqual({ [sessionIdOf(kept)]: kept.slice(0, -4) })
    expect(await first.store.reinflate(kept, first.clock.now())).toMatchObject({ userAgent: null, address: NO_USER_AGENT.address })
  })

  it('ends one session with one EVALSHA on the user\'s index key, which runs HGET, HDEL, GET and DEL', async () => {
    const keyPrefix = uniquePrefix()
    const client = testRedisClient(keyPrefix, server.url)
    const { store, clock } = makeStore(client, keyPrefix)
    const digest = digestToken(generateToken(ada))
    await store.issue(digest, ada, LAPTOP, clock.now())
    // A first call loads the script into this Redis (EVALSHA, NOSCRIPT, then EVAL): not the case measured.
    expect(await store.revokeSession(ada, 'no such session', clock.now())).toBe(false)

    const { result, sent, calls } = await commandsOf(client, () => store.revokeSession(ada, sessionIdOf(digest), clock.now()))
    expect(result).toBe(true)

    expect(sent).toHaveLength(1)
    expect(sent[0]!.name).toBe('evalsha')
    expect(sent[0]!.args.slice(1, 3)).toEqual(['1', `${keyPrefix}{${routingTagOf(ada)}}:u:${ada}`])
    expect(calls).toEqual({ evalsha: 1, hget: 1, hdel: 1, get: 1, del: 1 })
    expect(await keysUnder(client, keyPrefix)).toEqual([])
  })

  it('sends a script\'s body at most once, and calls it by SHA afterwards', async () => {
    const keyPrefix = uniquePrefix()
    const client = testRedisClient(keyPrefix, server.url)
    const { store, clock } = makeStore(client, keyPrefix)
    await store.issue(digestToken(generateToken(ada)), ada, LAPTOP, clock.now())
    const sent: string[] = []
    const originalSend = client.sendCommand.bind(client)
    client.sendCommand = ((command: { name: string }) => {
      sent.push(command.name.toLowerCase())
      return originalSend(command as never)
    }) as typeof client.sendCommand
    for (let i = 0; i < 5; i++) await store.issue(digestToken(generateToken(ada)), ada, LAPTOP, clock.now())
    expect(sent).toEqual(Array(5).fill('evalsha'))
  })

  it('turns a Redis it cannot reach into StoreUnavailableError, promptly', async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const client = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true })
    client.on('error', () => {})
    const store = new RedisTokenStore({ client, policy: CONTRACT_POLICY, keyPrefix: uniquePrefix() })
    await expect(store.ping()).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    await expect(store.reinflate(digestToken(generateToken(ada)), Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    client.disconnect()
  })
})
