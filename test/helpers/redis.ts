import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { inject, onTestFinished } from 'vitest'
import { skipWithout } from './system-binaries.js'

const sharedRedisUrl = inject('redisUrl')

/**
 * The Redis the tests share: REDIS_URL when set, else the redis-server the global setup
 * started; empty only where the Redis tests are skipped (skipWithoutRedis).
 */
export const TEST_REDIS_URL = sharedRedisUrl ?? ''

/**
 * Whether `tests`, which need the shared Redis, are skipped: only where there is none
 * (no REDIS_URL, no redis-server to start) outside CI, and then one line says so.
 */
export function skipWithoutRedis (tests: string): boolean {
  return sharedRedisUrl === undefined && skipWithout('redis-server', tests)
}

/** A key prefix no other run or test shares. */
export function uniquePrefix (): string {
  return `test:${randomUUID()}:`
}

/** A client for the test itself; its keys under `prefix` are deleted and it quits when the test ends. */
export function testRedisClient (prefix?: string, url = TEST_REDIS_URL): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
  onTestFinished(async () => {
    if (prefix !== undefined) await deleteKeys(client, prefix)
    client.disconnect()
  })
  return client
}

export async function keysUnder (client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    keys.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return keys
}

export async function deleteKeys (client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix)
  if (keys.length > 0) await client.del(...keys)
}
