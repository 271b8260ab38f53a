import { Redis } from 'ioredis'
import type { Logger } from './logger.js'
import { StoreUnavailableError } from './store-unavailable-error.js'

/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 5000

/**
 * A Redis client that fails fast while Redis is away (so requests get a prompt 503 rather
 * than hanging) and reconnects on its own with exponential backoff. `rediss://` URLs use TLS.
 */
export function createRedisClient (url: string, log: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
  })
  let connected = false
  client.on('ready', () => {
    connected = true
    log.info({ store: 'redis' }, 'connected to Redis')
  })
  // 'reconnecting', not 'close': a close that the service asked for (quit or disconnect at
  // shutdown) ends without reconnecting, and is no loss worth a warning.
  client.on('reconnecting', () => {
    if (connected) log.warn({ store: 'redis' }, 'Redis connection lost; reconnecting')
    connected = false
  })
  client.on('end', () => {
    connected = false
    log.info({ store: 'redis' }, 'disconnected from Redis')
  })
  // The URL may hold a password, so only the error's code is logged, never its message.
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) log.warn({ store: 'redis', code: err.code }, 'Redis unreachable; retrying')
  })
  return client
}

/** Runs one Redis call; any failure to get an answer becomes a StoreUnavailableError (a 503). */
export async function askRedis<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new StoreUnavailableError(`Redis: ${(err as Error).message}`, { cause: err })
  }
}

/** Methods named after Lua scripts, each taking its one key first, then its arguments. */
export type ScriptCommands<Name extends string> = { [name in Name]: (...args: Array<string | number>) => Promise<unknown> }

/**
 * `client` with one method per script of `scripts`. defineCommand sends EVALSHA, and the
 * script body only when Redis lacks it; a client shared by several stores defines each once.
 */
export function withScripts<Scripts extends Record<string, string>> (client: Redis, scripts: Scripts): Redis & ScriptCommands<keyof Scripts & string> {
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in client)) client.defineCommand(name, { lua, numberOfKeys: 1 })
  }
  return client as Redis & ScriptCommands<keyof Scripts & string>
}
