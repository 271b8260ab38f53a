import { askRedis, withScripts, type RedisClient, type ScriptCommands } from '../redis-client.js'
import type { AttemptCounter, AttemptPolicy, AttemptTaken } from './attempt-counter.js'

/*
 * One hash per key, <prefix><key> { n: attempts taken, e: end of the window }, with a Redis
 * TTL that ends with the window (a backstop: times come from the caller, as in the token
 * store, so every instance and every test agrees on "now").
 */
const SCRIPTS = {
  // KEYS: the counter. ARGV: now, window ms, max. Returns {granted (1 or 0), window end}.
  attemptTake: `
local now = tonumber(ARGV[1])
local window = redis.call('HMGET', KEYS[1], 'n', 'e')
local taken, ends = tonumber(window[1]), tonumber(window[2])
if not taken or now >= ends then taken, ends = 0, now + tonumber(ARGV[2]) end
if taken >= tonumber(ARGV[3]) then return {0, ends} end
redis.call('HSET', KEYS[1], 'n', taken + 1, 'e', ends)
redis.call('PEXPIRE', KEYS[1], ends - now)
return {1, ends}`,

  // KEYS: the counter. ARGV: now. Gives one attempt back to the current window, never below zero.
  attemptGiveBack: `
local window = redis.call('HMGET', KEYS[1], 'n', 'e')
if window[1] and tonumber(window[1]) > 0 and tonumber(ARGV[1]) < tonumber(window[2]) then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0`
} as const

export interface RedisAttemptCounterOptions {
  client: RedisClient
  policy: AttemptPolicy
  /** Prefix of every key, so that several services, counters or test runs share one Redis. */
  keyPrefix: string
}

/** Attempts counted in Redis, shared by every instance; same contract as the memory counter. */
export class RedisAttemptCounter implements AttemptCounter {
  readonly #redis: RedisClient & ScriptCommands<keyof typeof SCRIPTS>
  readonly #policy: AttemptPolicy
  readonly #prefix: string

  constructor ({ client, policy, keyPrefix }: RedisAttemptCounterOptions) {
    this.#redis = withScripts(client, SCRIPTS)
    this.#policy = policy
    this.#prefix = keyPrefix
  }

  async take (key: string, now: number): Promise<AttemptTaken> {
    const [granted, resetsAt] = await askRedis(() =>
      this.#redis.attemptTake(this.#prefix + key, now, this.#policy.windowMs, this.#policy.max)) as [number, number]
    return { granted: granted === 1, resetsAt: Number(resetsAt) }
  }

  async giveBack (key: string, now: number): Promise<void> {
    await askRedis(() => this.#redis.attemptGiveBack(this.#prefix + key, now))
  }
}
