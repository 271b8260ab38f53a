import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Device } from './device.js'
import { InternedStrings, NO_STRING } from './interned-strings.js'
import { expiryAfterUse, isExpired, type TokenLifetimePolicy } from './lifetime.js'
import { sessionIdOf } from './token.js'
import type { Session, TokenStore } from './token-store.js'

/**
 * Cleanup work (tokens looked at, or removed) between two yields to the event loop, so
 * that a large cleanup never stalls requests: a few milliseconds at most.
 */
const WORK_PER_SLICE = 10_000
/** Slots held by an empty store; the arrays double from there, and come back to it when the store empties. */
const INITIAL_CAPACITY = 1024
/**
 * The digest → slot index is split into this many maps, so that none holds more than a
 * small share of the tokens: a Map rehashes all its entries at once when it grows or
 * shrinks, and for one map of a million tokens that is a pause of tens of milliseconds.
 */
const SHARDS = 64
/** "No slot": the end of a user's list of slots, and of the list of free slots. */
const NONE = -1

/**
 * The default store: tokens in this process's memory, lost on restart.
 *
 * Laid out for a million tokens and more in little memory (BENCHMARKS.md: under 200 bytes
 * a token with its device, against about 500 for a Map of objects without) and with no
 * long pause: each token is a slot, a number, and its fields live in parallel typed
 * arrays (struct of arrays) instead of an object with boxed numbers. The digest string is
 * kept once, as the key of the digest → slot maps and in the slot → digest array. Times
 * stay in epoch milliseconds, as the interface speaks them; the expiry is not stored but
 * derived from creation and last use (expiryAfterUse), so that it cannot disagree with them.
 *
 * What repeats from token to token is interned (InternedStrings): usernames, user agents
 * and client addresses are kept once each and a slot holds their ids, so a thousand
 * sessions from one browser hold its user agent once, and it is forgotten with the last
 * of them. Each user's slots form a doubly linked list (in two more arrays), for
 * sessions, ending one of them and logout-all. Cleanup scans the slots' times, a few
 * nanoseconds a slot, in slices that yield to the event loop.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #policy: TokenLifetimePolicy
  #shards: Array<Map<string, number>> = newShards()

  // Slot fields. A slot is in use when #digests holds a string for it.
  #capacity = INITIAL_CAPACITY
  #digests: Array<string | undefined> = []
  #createdAt = new Float64Array(INITIAL_CAPACITY)
  #lastUsedAt = new Float64Array(INITIAL_CAPACITY)
  #refreshCount = new Float64Array(INITIAL_CAPACITY)
  #user = new Int32Array(INITIAL_CAPACITY)
  /** Id in #userAgents, or NO_STRING for a login without a User-Agent. */
  #userAgent = new Int32Array(INITIAL_CAPACITY)
  /** Id in #addresses. */
  #address = new Int32Array(INITIAL_CAPACITY)
  /** Previous slot of the same user. */
  #prev = new Int32Array(INITIAL_CAPACITY)
  /** Next slot of the same user; for a free slot, the next free slot. */
  #next = new Int32Array(INITIAL_CAPACITY)
  /** Slots below this have been used at least once; the ones above never were. */
  #highWater = 0
  #freeSlot = NONE
  #size = 0

  // Interned: an id per username, user agent and address that some token holds.
  #usernames = new InternedStrings()
  #userAgents = new InternedStrings()
  #addresses = new InternedStrings()
  /** A user's first slot, by the user's id in #usernames. */
  #userHead: number[] = []

  constructor (policy: TokenLifetimePolicy) {
    this.#policy = policy
  }

  async issue (digest: string, username: string, device: Device, now: number): Promise<Session> {
    const existing = this.#slotOf(digest)
    if (existing !== undefined) this.#delete(existing)
    const slot = this.#allocateSlot()
    this.#digests[slot] = digest
    this.#createdAt[slot] = now
    this.#lastUsedAt[slot] = now
    this.#refreshCount[slot] = 0
    this.#userAgent[slot] = device.userAgent === null ? NO_STRING : this.#userAgents.hold(device.userAgent)
    this.#address[slot] = this.#addresses.hold(device.address)
    this.#linkToUser(slot, username)
    this.#shardOf(digest).set(digest, slot)
    this.#size += 1
    return this.#session(slot, digest)
  }

  async reinflate (digest: string, now: number): Promise<Session | null> {
    const slot = this.#liveSlot(digest, now)
    if (slot === undefined) return null
    this.#lastUsedAt[slot] = now
    this.#refreshCount[slot]! += 1
    return this.#session(slot, digest)
  }

  async revoke (digest: string, now: number): Promise<Session | null> {
    const slot = this.#liveSlot(digest, now)
    if (slot === undefined) return null
    const session = this.#session(slot, digest)
    this.#delete(slot)
    this.#shrinkIfEmpty()
    return session
  }

  async revokeSession (username: string, sessionId: string, now: number): Promise<boolean> {
    const userId = this.#usernames.idOf(username)
    if (userId === undefined) return false
    for (let slot = this.#userHead[userId]!; slot !== NONE; slot = this.#next[slot]!) {
      const digest = this.#digests[slot]!
      // An expired one is removed as revoke removes it, and ends nothing.
      if (sessionIdOf(digest) === sessionId) return (await this.revoke(digest, now)) !== null
    }
    return false
  }

  async revokeAllForUser (username: string): Promise<number> {
    const userId = this.#usernames.idOf(username)
    if (userId === undefined) return 0
    let revoked = 0
    // Deleting the user's last slot releases the user id: the loop follows the list, not the id.
    for (let slot = this.#userHead[userId]!; slot !== NONE;) {
      const next = this.#next[slot]!
      this.#delete(slot)
      revoked += 1
      slot = next
    }
    this.#shrinkIfEmpty()
    return revoked
  }

  async listForUser (username: string, now: number): Promise<Session[]> {
    const userId = this.#usernames.idOf(username)
    if (userId === undefined) return []
    const sessions: Session[] = []
    for (let slot = this.#userHead[userId]!; slot !== NONE; slot = this.#next[slot]!) {
      if (!isExpired(this.#expiresAt(slot), now)) sessions.push(this.#session(slot, this.#digests[slot]!))
    }
    return sessions.sort((a, b) => a.createdAt - b.createdAt)
  }

  async removeExpired (now: number): Promise<number> {
    let removed = 0
    let workLeft = WORK_PER_SLICE
    // Shard by shard: a shard is a small share of the store, so no step holds the event loop long.
    for (let index = 0; index < SHARDS; index++) {
      const shard = this.#shards[index]!
      // forEach rather than for...of over the entries, which makes a [key, value] array for each.
      let expired = 0
      shard.forEach((slot) => {
        if (isExpired(this.#expiresAt(slot), now)) expired += 1
      })
      workLeft -= shard.size
      if (expired > shard.size / 2) {
        // Most of the shard goes (a mass expiry): a new map of the live entries is cheaper
        // than deleting the others one by one, each delete a lookup and some a rehash.
        const live = new Map<string, number>()
        shard.forEach((slot, digest) => {
          if (isExpired(this.#expiresAt(slot), now)) this.#release(slot)
          else live.set(digest, slot)
        })
        this.#shards[index] = live
        removed += expired
        workLeft -= shard.size
      } else if (expired > 0) {
        for (const digest of shard.keys()) {
          const slot = shard.get(digest)!
          if (!isExpired(this.#expiresAt(slot), now)) continue
          shard.delete(digest)
          this.#release(slot)
          removed += 1
          if (--workLeft <= 0) {
            // Deleting while iterating, and across yields, is safe for a Map: it visits what is there when it gets there.
            workLeft = WORK_PER_SLICE
            await yieldToEventLoop()
            // Unless the store was emptied meanwhile (close, or the last token revoked), and this map dropped.
            if (this.#shards[index] !== shard) break
          }
        }
      }
      if (workLeft <= 0) {
        workLeft = WORK_PER_SLICE
        await yieldToEventLoop()
      }
    }
    this.#shrinkIfEmpty()
    return removed
  }

  async size (): Promise<number> {
    return this.#size
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.#reset()
  }

  #shardOf (digest: string): Map<string, number> {
    // Two characters of the digest (base64url of a SHA-256) spread the tokens evenly; any string works.
    return this.#shards[(digest.charCodeAt(0) * 31 + digest.charCodeAt(1)) & (SHARDS - 1)]!
  }

  #slotOf (digest: string): number | undefined {
    return this.#shardOf(digest).get(digest)
  }

  /** The slot of the token if it is live; an expired one is removed on the spot. */
  #liveSlot (digest: string, now: number): number | undefined {
    const slot = this.#slotOf(digest)
    if (slot === undefined) return undefined
    if (isExpired(this.#expiresAt(slot), now)) {
      this.#delete(slot)
      this.#shrinkIfEmpty()
      return undefined
    }
    return slot
  }

  #expiresAt (slot: number): number {
    return expiryAfterUse(this.#policy, this.#createdAt[slot]!, this.#lastUsedAt[slot]!)
  }

  /** A new object each time, so callers can never change what the store holds (a Redis store could not let them). */
  #session (slot: number, digest: string): Session {
    const userAgent = this.#userAgent[slot]!
    return {
      id: sessionIdOf(digest),
      username: this.#usernames.valueOf(this.#user[slot]!),
      userAgent: userAgent === NO_STRING ? null : this.#userAgents.valueOf(userAgent),
      address: this.#addresses.valueOf(this.#address[slot]!),
      createdAt: this.#createdAt[slot]!,
      lastUsedAt: this.#lastUsedAt[slot]!,
      expiresAt: this.#expiresAt(slot),
      refreshCount: this.#refreshCount[slot]!
    }
  }

  #allocateSlot (): number {
    if (this.#freeSlot !== NONE) {
      const slot = this.#freeSlot
      this.#freeSlot = this.#next[slot]!
      return slot
    }
    if (this.#highWater === this.#capacity) this.#grow()
    return this.#highWater++
  }

  #grow (): void {
    const capacity = this.#capacity * 2
    this.#createdAt = grown(this.#createdAt, new Float64Array(capacity))
    this.#lastUsedAt = grown(this.#lastUsedAt, new Float64Array(capacity))
    this.#refreshCount = grown(this.#refreshCount, new Float64Array(capacity))
    this.#user = grown(this.#user, new Int32Array(capacity))
    this.#userAgent = grown(this.#userAgent, new Int32Array(capacity))
    this.#address = grown(this.#address, new Int32Array(capacity))
    this.#prev = grown(this.#prev, new Int32Array(capacity))
    this.#next = grown(this.#next, new Int32Array(capacity))
    this.#capacity = capacity
  }

  #linkToUser (slot: number, username: string): void {
    const userId = this.#usernames.hold(username)
    // A new id has no head yet; an id given back by a user whose last token went has NONE.
    const head = this.#userHead[userId] ?? NONE
    this.#user[slot] = userId
    this.#prev[slot] = NONE
    this.#next[slot] = head
    if (head !== NONE) this.#prev[head] = slot
    this.#userHead[userId] = slot
  }

  /** Removes a token: its digest from the index, then its slot. */
  #delete (slot: number): void {
    const digest = this.#digests[slot]!
    this.#shardOf(digest).delete(digest)
    this.#release(slot)
  }

  /** Frees a slot, whose digest the index no longer holds, and unlinks it from its user. */
  #release (slot: number): void {
    this.#digests[slot] = undefined

    const userId = this.#user[slot]!
    const prev = this.#prev[slot]!
    const next = this.#next[slot]!
    if (prev === NONE) this.#userHead[userId] = next
    else this.#next[prev] = next
    if (next !== NONE) this.#prev[next] = prev
    this.#usernames.release(userId)
    const userAgent = this.#userAgent[slot]!
    if (userAgent !== NO_STRING) this.#userAgents.release(userAgent)
    this.#addresses.release(this.#address[slot]!)

    this.#next[slot] = this.#freeSlot
    this.#freeSlot = slot
    this.#size -= 1
  }

  /** An empty store gives its arrays back, so that a burst of tokens does not hold memory for ever. */
  #shrinkIfEmpty (): void {
    if (this.#size === 0 && this.#capacity > INITIAL_CAPACITY) this.#reset()
  }

  #reset (): void {
    this.#shards = newShards()
    this.#capacity = INITIAL_CAPACITY
    this.#digests = []
    this.#createdAt = new Float64Array(INITIAL_CAPACITY)
    this.#lastUsedAt = new Float64Array(INITIAL_CAPACITY)
    this.#refreshCount = new Float64Array(INITIAL_CAPACITY)
    this.#user = new Int32Array(INITIAL_CAPACITY)
    this.#userAgent = new Int32Array(INITIAL_CAPACITY)
    this.#address = new Int32Array(INITIAL_CAPACITY)
    this.#prev = new Int32Array(INITIAL_CAPACITY)
    this.#next = new Int32Array(INITIAL_CAPACITY)
    this.#highWater = 0
    this.#freeSlot = NONE
    this.#size = 0
    this.#usernames = new InternedStrings()
    this.#userAgents = new InternedStrings()
    this.#addresses = new InternedStrings()
    this.#userHead = []
  }
}

function newShards (): Array<Map<string, number>> {
  return Array.from({ length: SHARDS }, () => new Map<string, number>())
}

function grown<T extends Float64Array | Int32Array> (from: T, to: T): T {
  to.set(from)
  return to
}
