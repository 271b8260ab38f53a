import type { Redis } from 'ioredis'
import { deviceOf } from '../src/tokens/device.js'
import { policyFromSeconds } from '../src/tokens/lifetime.js'
import { RedisTokenStore } from '../src/tokens/redis-token-store.js'
import { digestToken, generateToken } from '../src/tokens/token.js'

/** What Redis spent on a load of operations, per operation. */
export interface RedisCost {
  operations: number
  /** Redis's CPU (INFO cpu: used_cpu_user + used_cpu_sys, all its threads) per operation, µs. */
  cpuMicrosPerOperation: number | null
  /** Commands Redis ran per operation, by name (INFO commandstats, scripts' inner commands included). */
  commandsPerOperation: Record<string, number>
  operationsPerSecond: number
}

/** Redis's CPU seconds so far and its command counts, read from INFO (two calls: one section each, as every Redis takes). */
async function redisCounters (client: Redis): Promise<{ cpuSeconds: number, calls: Map<string, number> }> {
  const cpu = await client.info('cpu')
  const read = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(cpu)?.[1])
  const commandStats = await client.info('commandstats')
  const calls = new Map([...commandStats.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map(([, name, count]) => [name!, Number(count)]))
  return { cpuSeconds: read('used_cpu_sys') + read('used_cpu_user'), calls }
}

/**
 * Runs `operation` `count` times, `concurrency` at a time, and reads what Redis spent on it.
 * The INFO calls that read the counters (two before, counted; the second pair after, not yet)
 * are left out of the command counts.
 */
export async function measureRedis (client: Redis, count: number, concurrency: number, operation: (i: number) => Promise<unknown>): Promise<RedisCost> {
  const before = await redisCounters(client)
  const started = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await operation(next++)
  }))
  const seconds = (performance.now() - started) / 1000
  const after = await redisCounters(client)
  const commandsPerOperation: Record<string, number> = {}
  for (const [name, calls] of after.calls) {
    const delta = calls - (before.calls.get(name) ?? 0) - (name === 'info' ? 2 : 0)
    if (delta > 0) commandsPerOperation[name] = delta / count
  }
  const cpu = (after.cpuSeconds - before.cpuSeconds) * 1e6 / count
  return { operations: count, cpuMicrosPerOperation: Number.isFinite(cpu) ? cpu : null, commandsPerOperation, operationsPerSecond: count / seconds }
}

/** One round of the side-by-side: the store's validation, and the plain session store's GET + PEXPIRE on the same keys. */
export interface ValidationCostRound {
  validation: RedisCost
  floor: RedisCost
}

/**
 * The Redis cost of a validation, side by side with the floor of any Redis session store:
 * `sessions` sessions (one user each) issued by RedisTokenStore under `keyPrefix`, then in
 * each round `count` validations through the store (one EVALSHA each), and `count` times a
 * plain GET then PEXPIRE on the same session keys (what express-session with connect-redis
 * sends per request), with the same client and the same concurrency.
 */
/** The device of each session: a browser's, so that a session key is as large as a real one. */
const BROWSER = deviceOf('Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0', '203.0.113.7')

export async function validationCost (client: Redis, keyPrefix: string, options: { sessions: number, count: number, concurrency: number, rounds: number }): Promise<ValidationCostRound[]> {
  const policy = policyFromSeconds(3600, 86400)
  const store = new RedisTokenStore({ client, policy, keyPrefix })
  const digests: string[] = []
  for (let i = 0; i < options.sessions; i++) {
    const username = `bench${i}@example.com`
    const digest = digestToken(generateToken(username))
    await store.issue(digest, username, BROWSER, Date.now())
    digests.push(digest)
  }
  const keys: string[] = []
  let cursor = '0'
  do {
    const [nextCursor, batch] = await client.scan(cursor, 'MATCH', `${keyPrefix}{*}:t:*`, 'COUNT', 1000)
    keys.push(...batch)
    cursor = nextCursor
  } while (cursor !== '0')
  if (keys.length !== options.sessions) throw new Error(`redis: ${keys.length} session keys for ${options.sessions} sessions`)

  const validate = async (i: number) => {
    if (await store.reinflate(digests[i % digests.length]!, Date.now()) === null) throw new Error('redis: a live session did not validate')
  }
  const getAndExpire = async (i: number) => {
    const key = keys[i % keys.length]!
    if (await client.getBuffer(key) === null) throw new Error('redis: a session key is missing')
    await client.pexpire(key, policy.idleTtlMs)
  }
  // Warm both paths (the script loaded, the connection busy), then alternate, so that drift hits both alike.
  await measureRedis(client, Math.min(options.count, 1000), options.concurrency, validate)
  await measureRedis(client, Math.min(options.count, 1000), options.concurrency, getAndExpire)
  const rounds: ValidationCostRound[] = []
  for (let round = 0; round < options.rounds; round++) {
    rounds.push({
      validation: await measureRedis(client, options.count, options.concurrency, validate),
      floor: await measureRedis(client, options.count, options.concurrency, getAndExpire)
    })
  }
  return rounds
}
