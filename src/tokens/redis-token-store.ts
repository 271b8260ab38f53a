import type { Redis } from 'ioredis'
import { askRedis, withScripts, type ScriptCommands } from '../redis-client.js'
import type { TokenLifetimePolicy } from './lifetime.js'
import { sessionIdOf } from './token.js'
import type { Session, TokenStore } from './token-store.js'

/*
 * Keys, all under the prefix:
 *   token:<digest>   hash { u: username, c: createdAt, l: lastUsedAt, e: expiresAt, r: refreshCount },
 *                    with a Redis TTL that ends at its expiry: Redis removes dead tokens itself
 *   user:<username>  sorted set of the user's digests, scored by expiry (sessions, logout-all)
 *   expiries         sorted set of "<digest>:<username>", scored by expiry: what cleanup trims
 *
 * Every operation is one Lua script, so it is atomic across instances and costs one round
 * trip. Times come from the caller (ARGV), never from Redis's clock, so that every instance
 * and every test agrees on "now"; TTLs are set relative (PEXPIRE), as a backstop only.
 * The scripts build the user and expiries keys from the prefix, which ties them to one
 * Redis node (no cluster slots): a deliberate choice for a session store of this size.
 */

/** The expiry rule of lifetime.ts (expiryAfterUse), in Lua. */
const EXPIRY_AFTER_USE = `
local function expiry_after_use(created, now, idle, max)
  return math.min(now + idle, created + max)
end
`

/** Drops a token and its index entries. */
const FORGET = `
local function forget(prefix, digest, username)
  redis.call('DEL', prefix .. 'token:' .. digest)
  redis.call('ZREM', prefix .. 'user:' .. username, digest)
  redis.call('ZREM', prefix .. 'expiries', digest .. ':' .. username)
end
`

/** Records an expiry in the indexes; the user's set lives as long as its longest token. */
const INDEX = `
local function index(prefix, digest, username, expires_at, ttl)
  local user_key = prefix .. 'user:' .. username
  redis.call('ZADD', user_key, expires_at, digest)
  if redis.call('PTTL', user_key) < ttl then redis.call('PEXPIRE', user_key, ttl) end
  redis.call('ZADD', prefix .. 'expiries', expires_at, digest .. ':' .. username)
end
`

const SCRIPTS = {
  // KEYS: token key. ARGV: prefix, digest, username, now, idle, max
  tokenIssue: `${EXPIRY_AFTER_USE}${FORGET}${INDEX}
local now, idle, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local expires_at = expiry_after_use(now, now, idle, max)
local previous_owner = redis.call('HGET', KEYS[1], 'u')
if previous_owner then forget(ARGV[1], ARGV[2], previous_owner) end
redis.call('HSET', KEYS[1], 'u', ARGV[3], 'c', now, 'l', now, 'e', expires_at, 'r', 0)
redis.call('PEXPIRE', KEYS[1], expires_at - now)
index(ARGV[1], ARGV[2], ARGV[3], expires_at, expires_at - now)
return expires_at`,

  // KEYS: token key. ARGV: prefix, digest, now, idle, max. Returns {u, c, l, e, r} or nil.
  tokenReinflate: `${EXPIRY_AFTER_USE}${FORGET}${INDEX}
local t = redis.call('HMGET', KEYS[1], 'u', 'c', 'e')
if not t[1] then return nil end
local now = tonumber(ARGV[3])
if now >= tonumber(t[3]) then
  forget(ARGV[1], ARGV[2], t[1])
  return nil
end
local created = tonumber(t[2])
local expires_at = expiry_after_use(created, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
local refreshes = redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('HSET', KEYS[1], 'l', now, 'e', expires_at)
redis.call('PEXPIRE', KEYS[1], expires_at - now)
index(ARGV[1], ARGV[2], t[1], expires_at, expires_at - now)
return {t[1], t[2], ARGV[3], tostring(expires_at), tostring(refreshes)}`,

  // KEYS: token key. ARGV: prefix, digest, now. Returns the session if it was live, else nil.
  tokenRevoke: `${FORGET}
local t = redis.call('HMGET', KEYS[1], 'u', 'c', 'l', 'e', 'r')
if not t[1] then return nil end
forget(ARGV[1], ARGV[2], t[1])
if tonumber(ARGV[3]) >= tonumber(t[4]) then return nil end
return t`,

  // KEYS: user key. ARGV: prefix, username. Returns how many tokens the user had.
  tokenRevokeAll: `${FORGET}
local digests = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, digest in ipairs(digests) do forget(ARGV[1], digest, ARGV[2]) end
redis.call('DEL', KEYS[1])
return #digests`,

  // KEYS: user key. ARGV: prefix, now. Returns a flat list: digest, u, c, l, e, r per live token.
  tokenList: `
local digests = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
local out = {}
for _, digest in ipairs(digests) do
  local t = redis.call('HMGET', ARGV[1] .. 'token:' .. digest, 'u', 'c', 'l', 'e', 'r')
  if t[1] then
    table.insert(out, digest)
    for i = 1, 5 do table.insert(out, t[i]) end
  end
end
return out`,

  // KEYS: expiries key. ARGV: prefix, now, batch size. Returns how many it removed.
  tokenRemoveExpired: `${FORGET}
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(members) do
  local separator = string.find(member, ':', 1, true)
  forget(ARGV[1], string.sub(member, 1, separator - 1), string.sub(member, separator + 1))
end
return #members`
} as const

/** Tokens removed per cleanup script call: bounds how long one call holds Redis. */
const REMOVALS_PER_CALL = 1000

export interface RedisTokenStoreOptions {
  client: Redis
  policy: TokenLifetimePolicy
  /** Prefix of every key, so that several services or test runs share one Redis. */
  keyPrefix: string
}

/**
 * Tokens in Redis, shared by every instance of the service. Same contract as the
 * memory store (test/stores/token-store.contract.ts runs against both).
 */
export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis & ScriptCommands<keyof typeof SCRIPTS>
  readonly #policy: TokenLifetimePolicy
  readonly #prefix: string

  constructor ({ client, policy, keyPrefix }: RedisTokenStoreOptions) {
    this.#redis = withScripts(client, SCRIPTS)
    this.#policy = policy
    this.#prefix = keyPrefix
  }

  async issue (digest: string, username: string, now: number): Promise<Session> {
    const expiresAt = await askRedis(() => this.#redis.tokenIssue(
      this.#tokenKey(digest), this.#prefix, digest, username, now, this.#policy.idleTtlMs, this.#policy.maxLifetimeMs
    ))
    return { id: sessionIdOf(digest), username, createdAt: now, lastUsedAt: now, expiresAt: Number(expiresAt), refreshCount: 0 }
  }

  async reinflate (digest: string, now: number): Promise<Session | null> {
    const fields = await askRedis(() => this.#redis.tokenReinflate(
      this.#tokenKey(digest), this.#prefix, digest, now, this.#policy.idleTtlMs, this.#policy.maxLifetimeMs
    ))
    return fields === null ? null : toSession(digest, fields as string[])
  }

  async revoke (digest: string, now: number): Promise<Session | null> {
    const fields = await askRedis(() => this.#redis.tokenRevoke(this.#tokenKey(digest), this.#prefix, digest, now))
    return fields === null ? null : toSession(digest, fields as string[])
  }

  async revokeAllForUser (username: string): Promise<number> {
    return Number(await askRedis(() => this.#redis.tokenRevokeAll(this.#userKey(username), this.#prefix, username)))
  }

  async listForUser (username: string, now: number): Promise<Session[]> {
    const flat = await askRedis(() => this.#redis.tokenList(this.#userKey(username), this.#prefix, now)) as string[]
    const sessions: Session[] = []
    for (let i = 0; i < flat.length; i += 6) {
      const session = toSession(flat[i]!, flat.slice(i + 1, i + 6))
      if (session.expiresAt > now) sessions.push(session)
    }
    return sessions.sort((a, b) => a.createdAt - b.createdAt)
  }

  async removeExpired (now: number): Promise<number> {
    let removed = 0
    let batch: number
    do {
      batch = Number(await askRedis(() => this.#redis.tokenRemoveExpired(`${this.#prefix}expiries`, this.#prefix, now, REMOVALS_PER_CALL)))
      removed += batch
    } while (batch === REMOVALS_PER_CALL)
    return removed
  }

  async size (): Promise<number> {
    return askRedis(() => this.#redis.zcard(`${this.#prefix}expiries`))
  }

  async ping (): Promise<void> {
    await askRedis(() => this.#redis.ping())
  }

  /** Nothing of its own to close: the connection belongs to whoever made it (the auth module closes it: plugins/auth/redis.ts). */
  async close (): Promise<void> {}

  #tokenKey (digest: string): string {
    return `${this.#prefix}token:${digest}`
  }

  #userKey (username: string): string {
    return `${this.#prefix}user:${username}`
  }
}

/** A session from the script's fields: username, createdAt, lastUsedAt, expiresAt, refreshCount. */
function toSession (digest: string, [username, createdAt, lastUsedAt, expiresAt, refreshCount]: string[]): Session {
  return {
    id: sessionIdOf(digest),
    username: username!,
    createdAt: Number(createdAt),
    lastUsedAt: Number(lastUsedAt),
    expiresAt: Number(expiresAt),
    refreshCount: Number(refreshCount)
  }
}
