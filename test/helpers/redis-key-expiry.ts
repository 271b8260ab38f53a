import { dataNodes, type RedisClient } from '../../src/redis-client.js'
import { toSession } from '../../src/tokens/redis-token-store.js'
import type { TokenStore } from '../../src/tokens/token-store.js'

/** Every session key under `keyPrefix`, on every node. */
export async function sessionKeysUnder (client: RedisClient, keyPrefix: string): Promise<string[]> {
  const keys: string[] = []
  for (const node of dataNodes(client)) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${keyPrefix}{*}:t:*`, 'COUNT', 1000)
      keys.push(...batch)
      cursor = next
    } while (cursor !== '0')
  }
  return keys
}

/**
 * Redis's own key expiry, played at the fake clock's `now`: deletes the session keys under
 * `keyPrefix` whose expiry has come, and answers how many. In production Redis does this
 * itself, by its own clock, when a session's TTL runs out; a test's fake clock cannot move
 * Redis's, so without this a fake-clock test would never see a key expire. The expiry is
 * read from the session, the instant the store set its TTL to end at (the Redis store's
 * own tests check that TTL).
 */
export async function expireSessionsAt (client: RedisClient, keyPrefix: string, now: number): Promise<number> {
  let expired = 0
  for (const key of await sessionKeysUnder(client, keyPrefix)) {
    const session = await client.getBuffer(key)
    if (session !== null && toSession('', session).expiresAt <= now) expired += await client.del(key)
  }
  return expired
}

/**
 * A Redis token store as the contract suite and the model see it: its removeExpired(now)
 * (which has nothing to do, Redis removing expired sessions itself) together with Redis's
 * key expiry at `now` (expireSessionsAt), so that "the tokens expired by now are removed"
 * is checked against Redis's expiry as against the memory store's cleanup.
 */
export function withRedisKeyExpiry (store: TokenStore, client: RedisClient, keyPrefix: string): TokenStore {
  return {
    issue: (digest, username, device, now) => store.issue(digest, username, device, now),
    reinflate: (digest, now) => store.reinflate(digest, now),
    revoke: (digest, now) => store.revoke(digest, now),
    revokeSession: (username, sessionId, now) => store.revokeSession(username, sessionId, now),
    revokeAllForUser: (username) => store.revokeAllForUser(username),
    listForUser: (username, now) => store.listForUser(username, now),
    removeExpired: async (now) => await store.removeExpired(now) + await expireSessionsAt(client, keyPrefix, now),
    size: () => store.size(),
    ping: () => store.ping(),
    close: () => store.close()
  }
}
