import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'

/** The Redis the tests use: REDIS_URL when set, else the local server. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

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
