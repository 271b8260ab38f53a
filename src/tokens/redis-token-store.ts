import type { ChainableCommander, Cluster, Redis } from 'ioredis'
import { silentLogger, type Logger } from '../logger.js'
import { askRedis, dataNodes, withScripts, type RedisClient, type ScriptCommands } from '../redis-client.js'
import { StoreUnavailableError } from '../store-unavailable-error.js'
import type { TokenLifetimePolicy } from './lifetime.js'
import { routingTagOf, routingTagOfDigest, sessionIdOf } from './token.js'
import type { Device } from './device.js'
import type { Session, TokenStore } from './token-store.js'

/*
 * The layout (README, "Tokens in Redis", says why). Each user's keys share one cluster
 * slot through a hash tag, the routing tag that the user's tokens begin with:
 *
 *   <prefix>{<tag>}:t:<digest>    a session: a string, 4 big-endian doubles (createdAt,
 *                                 lastUsedAt, expiresAt, refreshCount), then who and where
 *                                 from (packOrigin: the username, the user agent, the
 *                                 address), written at issue and never changed;
 *                                 its Redis TTL ends at its expiry, so Redis removes it
 *   <prefix>{<tag>}:u:<username>  the user's index: a hash, session id -> digest; it lives
 *                                 as long as the user's newest session could
 *
 * Every operation is one Lua script on the keys of one slot: atomic across instances, one
 * round trip, and never a key of two slots (ERR CROSSSLOT on a cluster). Each script
 * declares the key that routes it to its slot's master; any other key it touches it builds
 * from the slot's prefix (ARGV), so that key is in the same slot. A validation reads and
 * rewrites the session key alone: GET, then SET with PX. No key is global.
 * Times come from the caller (ARGV), never from Redis's clock, so every instance and every
 * test agrees on "now"; TTLs are relative (PX, PEXPIRE), a backstop behind that check.
 */

/** struct.pack format of a session's times; its origin (packOrigin) follows them. */
const SESSION_FIELDS = "'>dddd'"
const SESSION_HEADER_BYTES = 32

/**
 * The owner of a session: the username at the head of its origin, after its byte length
 * (packOrigin). struct.unpack's third argument is where to start reading.
 */
const OWNER_OF = `
local function owner_of(session)
  local length = struct.unpack('>I', session, ${SESSION_HEADER_BYTES + 1})
  return string.sub(session, ${SESSION_HEADER_BYTES + 5}, ${SESSION_HEADER_BYTES + 4} + length)
end
`

const SCRIPTS = {
  // KEYS: session. ARGV: now, idle, max, session id, digest, username, the slot's key
  // prefix, index TTL, the session's origin (packOrigin). Returns the session.
  tokenIssue: `${OWNER_OF}
local now, idle, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local index = ARGV[7] .. 'u:' .. ARGV[6]
local previous = redis.call('GET', KEYS[1])
if previous then
  local owner = owner_of(previous)
  if owner ~= ARGV[6] then redis.call('HDEL', ARGV[7] .. 'u:' .. owner, ARGV[4]) end
end
local expires_at = math.min(now + idle, now + max)
local session = struct.pack(${SESSION_FIELDS}, now, now, expires_at, 0) .. ARGV[9]
redis.call('SET', KEYS[1], session, 'PX', expires_at - now)
local entries = redis.call('HGETALL', index)
for i = 1, #entries, 2 do
  if redis.call('EXISTS', ARGV[7] .. 't:' .. entries[i + 1]) == 0 then redis.call('HDEL', index, entries[i]) end
end
redis.call('HSET', index, ARGV[4], ARGV[5])
if redis.call('PTTL', index) < tonumber(ARGV[8]) then redis.call('PEXPIRE', index, ARGV[8]) end
return session`,

  // KEYS: session. ARGV: now, idle, max. Returns the reinflated session, or nil.
  tokenReinflate: `
local session = redis.call('GET', KEYS[1])
if not session then return nil end
local created, _, expires_at, refreshes = struct.unpack(${SESSION_FIELDS}, session)
local now = tonumber(ARGV[1])
if now >= expires_at then
  redis.call('DEL', KEYS[1])
  return nil
end
expires_at = math.min(now + tonumber(ARGV[2]), created + tonumber(ARGV[3]))
session = struct.pack(${SESSION_FIELDS}, created, now, expires_at, refreshes + 1) .. string.sub(session, ${SESSION_HEADER_BYTES + 1})
redis.call('SET', KEYS[1], session, 'PX', expires_at - now)
return session`,

  // KEYS: session. ARGV: now, the slot's key prefix, session id. Returns the session if it was live, else nil.
  tokenRevoke: `${OWNER_OF}
local session = redis.call('GET', KEYS[1])
if not session then return nil end
redis.call('DEL', KEYS[1])
redis.call('HDEL', ARGV[2] .. 'u:' .. owner_of(session), ARGV[3])
local _, _, expires_at = struct.unpack(${SESSION_FIELDS}, session)
if tonumber(ARGV[1]) >= expires_at then return nil end
return session`,

  // KEYS: user index. ARGV: the slot's key prefix, session id, now, username. Returns 1 when
  // it ended a live session of the user, else 0. The index names the session; one found
  // expired is removed as revoke removes it; one that another user now holds is left alone.
  tokenRevokeSession: `${OWNER_OF}
local digest = redis.call('HGET', KEYS[1], ARGV[2])
if not digest then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local key = ARGV[1] .. 't:' .. digest
local session = redis.call('GET', key)
if not session or owner_of(session) ~= ARGV[4] then return 0 end
redis.call('DEL', key)
local _, _, expires_at = struct.unpack(${SESSION_FIELDS}, session)
if tonumber(ARGV[3]) >= expires_at then return 0 end
return 1`,

  // KEYS: user index. ARGV: the slot's key prefix. Returns how many sessions it removed.
  tokenRevokeAll: `
local removed = 0
for _, digest in ipairs(redis.call('HVALS', KEYS[1])) do
  removed = removed + redis.call('DEL', ARGV[1] .. 't:' .. digest)
end
redis.call('DEL', KEYS[1])
return removed`,

  // KEYS: user index. ARGV: the slot's key prefix, now. Returns id, session, id, session...
  // of the live sessions; drops the entries whose session is gone.
  tokenList: `
local now = tonumber(ARGV[2])
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #entries, 2 do
  local session = redis.call('GET', ARGV[1] .. 't:' .. entries[i + 1])
  if not session then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    local _, _, expires_at = struct.unpack(${SESSION_FIELDS}, session)
    if now < expires_at then
      live[#live + 1] = entries[i]
      live[#live + 1] = session
    end
  end
end
return live`
} as const

type ScriptName = keyof typeof SCRIPTS
type ScriptArgument = string | number | Buffer
/** A pipeline of the scripts; the Buffer forms answer the session's bytes as they are. */
type ScriptPipeline = ChainableCommander & { [name in ScriptName | `${ScriptName}Buffer`]: (...args: ScriptArgument[]) => ScriptPipeline }

/**
 * The user index outlives the user's newest session by this much beyond the absolute
 * lifetime: room for the clocks of the instances to disagree (the index's TTL starts at
 * the login, a session's end is computed from the issuing instance's clock).
 */
const INDEX_CLOCK_ALLOWANCE_MS = 60_000

/** How long a revocation waits for a replica to confirm it (cluster only). */
const REPLICA_ACK_TIMEOUT_MS = 500

/** size(): keys scanned per node at most; up to this many, the count is exact. */
const SIZE_SCAN_KEYS = 10_000
const SCAN_PAGE = 1000

export interface RedisTokenStoreOptions {
  client: RedisClient
  policy: TokenLifetimePolicy
  /** Prefix of every key, so that several services or test runs share one Redis. */
  keyPrefix: string
  /** Where a revocation that no replica confirmed is reported (cluster only). */
  log?: Logger
}

/**
 * Tokens in Redis, one node or a Redis Cluster, shared by every instance of the service.
 * Same contract as the memory store (test/stores/token-store.contract.ts runs against
 * memory, a Redis node and a Redis Cluster).
 */
export class RedisTokenStore implements TokenStore {
  readonly #redis: RedisClient & ScriptCommands<ScriptName>
  readonly #policy: TokenLifetimePolicy
  readonly #prefix: string
  readonly #sessionKeyPattern: RegExp
  readonly #log: Logger

  constructor ({ client, policy, keyPrefix, log = silentLogger }: RedisTokenStoreOptions) {
    this.#redis = withScripts(client, SCRIPTS)
    this.#policy = policy
    this.#prefix = keyPrefix
    this.#sessionKeyPattern = new RegExp(`^${keyPrefix.replace(/[.*+?^$()|[\]\\]/g, '\\$&')}\\{[A-Za-z0-9_-]+\\}:t:`)
    this.#log = log
  }

  async issue (digest: string, username: string, device: Device, now: number): Promise<Session> {
    const tag = routingTagOfDigest(digest)
    if (tag !== routingTagOf(username)) throw new Error('issue: the token was not generated for this user (its routing tag differs)')
    const slot = this.#slotPrefix(tag)
    const session = await askRedis(() => this.#redis.tokenIssueBuffer(
      this.#sessionKey(digest), now, this.#policy.idleTtlMs, this.#policy.maxLifetimeMs, sessionIdOf(digest), sessionDigest(digest), username, slot,
      this.#policy.maxLifetimeMs + INDEX_CLOCK_ALLOWANCE_MS, packOrigin(username, device)
    ))
    return toSession(sessionIdOf(digest), session as Buffer)
  }

  async reinflate (digest: string, now: number): Promise<Session | null> {
    const session = await askRedis(() => this.#redis.tokenReinflateBuffer(
      this.#sessionKey(digest), now, this.#policy.idleTtlMs, this.#policy.maxLifetimeMs
    ))
    return session === null ? null : toSession(sessionIdOf(digest), session as Buffer)
  }

  async revoke (digest: string, now: number): Promise<Session | null> {
    const session = await this.#revocation('tokenRevokeBuffer',
      this.#sessionKey(digest), now, this.#slotPrefix(routingTagOfDigest(digest)), sessionIdOf(digest))
    return session === null ? null : toSession(sessionIdOf(digest), session as Buffer)
  }

  async revokeSession (username: string, sessionId: string, now: number): Promise<boolean> {
    const slot = this.#slotPrefix(routingTagOf(username))
    return Number(await this.#revocation('tokenRevokeSession', `${slot}u:${username}`, slot, sessionId, now, username)) === 1
  }

  async revokeAllForUser (username: string): Promise<number> {
    const slot = this.#slotPrefix(routingTagOf(username))
    return Number(await this.#revocation('tokenRevokeAll', `${slot}u:${username}`, slot))
  }

  async listForUser (username: string, now: number): Promise<Session[]> {
    const slot = this.#slotPrefix(routingTagOf(username))
    const flat = await askRedis(() => this.#redis.tokenListBuffer(`${slot}u:${username}`, slot, now)) as Buffer[]
    const sessions: Session[] = []
    for (let i = 0; i < flat.length; i += 2) sessions.push(toSession(flat[i]!.toString(), flat[i + 1]!))
    return sessions.sort((a, b) => a.createdAt - b.createdAt)
  }

  /**
   * Nothing to do: every session key carries a Redis TTL that ends at its expiry (set at
   * issue, renewed by each validation), so Redis removes expired tokens itself; index
   * entries of removed sessions are dropped by the next login or listing of their user,
   * and the index itself expires with its newest session. Hence 0.
   */
  async removeExpired (_now: number): Promise<number> {
    return 0
  }

  /**
   * The session keys that Redis holds, summed over its nodes (a cluster's masters): exact
   * while a node holds up to SIZE_SCAN_KEYS keys, which it then scans whole; beyond, an
   * estimate, the node's key count (DBSIZE) times the share of session keys among the
   * first SIZE_SCAN_KEYS it scans. No global counter: every validation would have to write
   * it, and a full SCAN costs about 1 µs of Redis CPU per key, too much for a gauge.
   */
  async size (): Promise<number> {
    const counts = await askRedis(() => Promise.all(dataNodes(this.#redis).map((node) => this.#countSessionKeys(node))))
    return counts.reduce((sum, count) => sum + count, 0)
  }

  async ping (): Promise<void> {
    if (!this.#redis.isCluster) {
      await askRedis(() => this.#redis.ping())
      return
    }
    const info = await askRedis(() => (this.#redis as Cluster).cluster('INFO'))
    if (!/^cluster_state:ok/m.test(info)) throw new StoreUnavailableError('Redis Cluster: cluster_state is not ok')
  }

  /** Nothing of its own to close: the connection belongs to whoever made it (plugins/auth/redis.ts closes it). */
  async close (): Promise<void> {}

  /** `<prefix>{<tag>}:`: what every key of one user's slot begins with. */
  #slotPrefix (tag: string): string {
    return `${this.#prefix}{${tag}}:`
  }

  #sessionKey (digest: string): string {
    return `${this.#slotPrefix(routingTagOfDigest(digest))}t:${sessionDigest(digest)}`
  }

  /**
   * A revocation script. On a cluster it is followed, on the same master, by WAIT for one
   * replica: Redis replicates asynchronously, and a logout that only the master had seen
   * would be undone by a failover in that instant. Without a replica's answer in time (the
   * shard has none, say after a failover) the revocation stands on the master alone: logged.
   */
  async #revocation (script: 'tokenRevokeBuffer' | 'tokenRevokeSession' | 'tokenRevokeAll', key: string, ...args: ScriptArgument[]): Promise<unknown> {
    if (!this.#redis.isCluster) return askRedis(() => this.#redis[script](key, ...args))
    const replies = await askRedis(async () => {
      const pipeline = this.#redis.pipeline() as ScriptPipeline
      return await pipeline[script](key, ...args).wait(1, REPLICA_ACK_TIMEOUT_MS).exec()
    })
    const [[scriptError, result], [waitError, acknowledged]] = replies as Array<[Error | null, unknown]> as [[Error | null, unknown], [Error | null, unknown]]
    if (scriptError !== null) throw new StoreUnavailableError(`Redis: ${scriptError.message}`, { cause: scriptError })
    if (waitError !== null || acknowledged === 0) {
      this.#log.warn({ store: 'redis' }, 'no replica confirmed a revocation in time; it holds on the master')
    }
    return result
  }

  async #countSessionKeys (node: Redis): Promise<number> {
    const sessions = new Set<string>()
    const seen = new Set<string>()
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'COUNT', SCAN_PAGE)
      for (const key of keys) {
        seen.add(key)
        if (this.#sessionKeyPattern.test(key)) sessions.add(key)
      }
      cursor = next
    } while (cursor !== '0' && seen.size < SIZE_SCAN_KEYS)
    if (cursor === '0') return sessions.size
    return Math.round(await node.dbsize() * sessions.size / seen.size)
  }
}

/** The digest without its routing tag: the tag is in the key's hash tag already. */
function sessionDigest (digest: string): string {
  return digest.slice(0, digest.length - routingTagOfDigest(digest).length)
}

/** userAgent's byte length in a session's origin when the login sent none. */
const NO_USER_AGENT = 0xffffffff

/**
 * Who opened a session and from where, as its key keeps them after its times: the
 * username's byte length (uint32, big-endian) and the username, first, so that a script
 * finds the owner without reading further (OWNER_OF); then the user agent's length
 * (NO_USER_AGENT for none) and the user agent; then the address, to the end.
 */
function packOrigin (username: string, { userAgent, address }: Device): Buffer {
  const name = Buffer.from(username)
  const agent = Buffer.from(userAgent ?? '')
  const lengths = Buffer.alloc(8)
  lengths.writeUInt32BE(name.length, 0)
  lengths.writeUInt32BE(userAgent === null ? NO_USER_AGENT : agent.length, 4)
  return Buffer.concat([lengths.subarray(0, 4), name, lengths.subarray(4), agent, Buffer.from(address)])
}

/** A session from its bytes (struct.pack's '>dddd', then its origin: packOrigin). */
export function toSession (id: string, session: Buffer): Session {
  const usernameStart = SESSION_HEADER_BYTES + 4
  const usernameEnd = usernameStart + session.readUInt32BE(SESSION_HEADER_BYTES)
  const userAgentLength = session.readUInt32BE(usernameEnd)
  const userAgentStart = usernameEnd + 4
  const addressStart = userAgentStart + (userAgentLength === NO_USER_AGENT ? 0 : userAgentLength)
  return {
    id,
    username: session.toString('utf8', usernameStart, usernameEnd),
    userAgent: userAgentLength === NO_USER_AGENT ? null : session.toString('utf8', userAgentStart, addressStart),
    address: session.toString('utf8', addressStart),
    createdAt: session.readDoubleBE(0),
    lastUsedAt: session.readDoubleBE(8),
    expiresAt: session.readDoubleBE(16),
    refreshCount: session.readDoubleBE(24)
  }
}
