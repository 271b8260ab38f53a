import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { expiryAfterUse, isExpired, type TokenLifetimePolicy } from './lifetime.js'
import { sessionIdOf } from './token.js'
import type { TokenRecord, TokenStore } from './token-store.js'

interface StoredToken {
  digest: string
  username: string
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  refreshCount: number
}

/** Removals between two yields to the event loop, so a large cleanup never stalls requests. */
const REMOVALS_PER_SLICE = 10_000

/**
 * The default store: tokens in this process's memory, lost on restart.
 *
 * Besides the digest → token map it keeps two indexes: the digests of each user (for
 * sessions and logout-all) and the digests grouped by the second in which they expire,
 * so that cleanup visits only the buckets already past, at a cost in proportion to
 * the expired tokens, not to all of them.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #policy: TokenLifetimePolicy
  readonly #tokens = new Map<string, StoredToken>()
  readonly #digestsByUser = new Map<string, Set<string>>()
  readonly #digestsByExpirySecond = new Map<number, Set<string>>()

  constructor (policy: TokenLifetimePolicy) {
    this.#policy = policy
  }

  async issue (digest: string, username: string, now: number): Promise<TokenRecord> {
    this.#delete(digest)
    const token: StoredToken = {
      digest,
      username,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: expiryAfterUse(this.#policy, now, now),
      refreshCount: 0
    }
    this.#tokens.set(digest, token)
    addToIndex(this.#digestsByUser, username, digest)
    addToIndex(this.#digestsByExpirySecond, expirySecond(token.expiresAt), digest)
    return toRecord(token)
  }

  async validate (digest: string, now: number): Promise<TokenRecord | null> {
    const token = this.#liveToken(digest, now)
    if (token === undefined) return null
    removeFromIndex(this.#digestsByExpirySecond, expirySecond(token.expiresAt), digest)
    token.expiresAt = expiryAfterUse(this.#policy, token.createdAt, now)
    token.lastUsedAt = now
    token.refreshCount += 1
    addToIndex(this.#digestsByExpirySecond, expirySecond(token.expiresAt), digest)
    return toRecord(token)
  }

  async revoke (digest: string, now: number): Promise<TokenRecord | null> {
    const token = this.#liveToken(digest, now)
    if (token === undefined) return null
    this.#delete(digest)
    return toRecord(token)
  }

  async revokeAllForUser (username: string): Promise<number> {
    const digests = [...(this.#digestsByUser.get(username) ?? [])]
    for (const digest of digests) this.#delete(digest)
    return digests.length
  }

  async listForUser (username: string, now: number): Promise<TokenRecord[]> {
    const records: TokenRecord[] = []
    for (const digest of this.#digestsByUser.get(username) ?? []) {
      const token = this.#tokens.get(digest)
      if (token !== undefined && !isExpired(token.expiresAt, now)) records.push(toRecord(token))
    }
    return records.sort((a, b) => a.createdAt - b.createdAt)
  }

  async removeExpired (now: number): Promise<number> {
    let removed = 0
    let sinceYield = 0
    for (const [second, digests] of this.#digestsByExpirySecond) {
      if (second * 1000 > now) continue
      for (const digest of digests) {
        const token = this.#tokens.get(digest)
        if (token !== undefined && !isExpired(token.expiresAt, now)) continue
        this.#delete(digest)
        removed += 1
        if (++sinceYield === REMOVALS_PER_SLICE) {
          sinceYield = 0
          await yieldToEventLoop()
        }
      }
    }
    return removed
  }

  async size (): Promise<number> {
    return this.#tokens.size
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.#tokens.clear()
    this.#digestsByUser.clear()
    this.#digestsByExpirySecond.clear()
  }

  /** The token if it is live; an expired one is removed on the spot. */
  #liveToken (digest: string, now: number): StoredToken | undefined {
    const token = this.#tokens.get(digest)
    if (token === undefined) return undefined
    if (isExpired(token.expiresAt, now)) {
      this.#delete(digest)
      return undefined
    }
    return token
  }

  #delete (digest: string): void {
    const token = this.#tokens.get(digest)
    if (token === undefined) return
    this.#tokens.delete(digest)
    removeFromIndex(this.#digestsByUser, token.username, digest)
    removeFromIndex(this.#digestsByExpirySecond, expirySecond(token.expiresAt), digest)
  }
}

function expirySecond (expiresAt: number): number {
  return Math.floor(expiresAt / 1000)
}

function addToIndex<K> (index: Map<K, Set<string>>, key: K, digest: string): void {
  const digests = index.get(key)
  if (digests === undefined) index.set(key, new Set([digest]))
  else digests.add(digest)
}

function removeFromIndex<K> (index: Map<K, Set<string>>, key: K, digest: string): void {
  const digests = index.get(key)
  if (digests === undefined) return
  digests.delete(digest)
  if (digests.size === 0) index.delete(key)
}

/** A copy, so callers can never change what the store holds (a Redis store could not let them). */
function toRecord (token: StoredToken): TokenRecord {
  return {
    id: sessionIdOf(token.digest),
    username: token.username,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
    expiresAt: token.expiresAt,
    refreshCount: token.refreshCount
  }
}
