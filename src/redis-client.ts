import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { redisUrls, type Config } from './config.js'
import type { Logger } from './logger.js'
import { StoreUnavailableError } from './store-unavailable-error.js'

/** A connection to one Redis node, or to a Redis Cluster: the token store and the login throttle share one (plugins/auth/redis.ts). */
export type RedisClient = Redis | Cluster

/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 5000

const reconnectDelay = (attempt: number) => Math.min(100 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)

/**
 * Per connection: a command waits at most 2 s for its answer, so that a request meets a
 * prompt 503 rather than a hang while Redis (or one cluster node) is away.
 */
const CONNECTION_OPTIONS = { connectTimeout: 5000, commandTimeout: 2000 } satisfies RedisOptions

/**
 * Cluster behaviour. Every read goes to the slot's master (scaleReads 'master'): each
 * operation writes, or must see the latest write (a logout), so a lagging replica must
 * never answer. While a master fails over, a command is retried every 100 ms up to 16
 * times (ioredis's defaults), then fails: a 503 within about 2 s, never a hang. The
 * slot map is refreshed every 5 s as well as on MOVED, so a promotion is seen even by an
 * instance that sent nothing to that shard meanwhile.
 */
const CLUSTER_OPTIONS = {
  scaleReads: 'master',
  enableOfflineQueue: false,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  maxRedirections: 16,
  slotsRefreshTimeout: 2000,
  slotsRefreshInterval: 5000,
  clusterRetryStrategy: reconnectDelay
} satisfies ClusterOptions

/**
 * ioredis's Cluster arguments for seed-node URLs. Nodes found through the seeds (every
 * master and replica) get the options of the first URL: its user and password, and TLS
 * for `rediss://`. Hostnames are given to TLS as they are (no lookup of our own), so a
 * certificate made for a name still matches, as managed services need.
 */
export function clusterArguments (urls: string[]): { startupNodes: Array<{ host: string, port: number }>, options: ClusterOptions } {
  const parsed = urls.map((url) => new URL(url))
  const first = parsed[0]!
  const redisOptions: ClusterOptions['redisOptions'] = {
    ...CONNECTION_OPTIONS,
    ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
    ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {})
  }
  return {
    startupNodes: parsed.map((url) => ({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 6379) })),
    options: {
      ...CLUSTER_OPTIONS,
      redisOptions,
      ...(first.protocol === 'rediss:' ? { dnsLookup: (address, callback) => callback(null, address) } : {})
    }
  }
}

/**
 * The one Redis client factory (the connection that tokens and login throttling share).
 * REDIS_CLUSTER=true: an
 * ioredis Cluster over the seed nodes of REDIS_URL. Otherwise one node, which must not be
 * a cluster node: a plain client there would reach only the slots that node serves, so
 * the client refuses it (closes, and every command fails, so requests answer 503 and
 * readiness says so) with one log line saying what to set.
 *
 * Either way it fails fast while Redis is away and reconnects on its own with backoff
 * (up to 5 s between attempts). Log lines carry an error's code, never its message or the
 * URL, which may hold a password.
 */
export function createRedisClient ({ REDIS_URL, REDIS_CLUSTER }: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER'>, log: Logger): RedisClient {
  const urls = redisUrls(REDIS_URL!)
  if (REDIS_CLUSTER) {
    const { startupNodes, options } = clusterArguments(urls)
    return watchCluster(new Cluster(startupNodes, options), log)
  }
  return watchNode(new Redis(urls[0]!, {
    ...CONNECTION_OPTIONS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay
  }), log)
}

function watchNode (client: Redis, log: Logger): Redis {
  let connected = false
  client.on('ready', () => {
    connected = true
    log.info({ store: 'redis' }, 'connected to Redis')
    client.info('cluster').then((info) => {
      if (!/^cluster_enabled:1/m.test(info)) return
      log.warn({ store: 'redis' }, 'REDIS_URL is a Redis Cluster node: set REDIS_CLUSTER=true (and list seed nodes in REDIS_URL); not using it')
      client.disconnect()
    }, () => {})
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
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) log.warn({ store: 'redis', code: err.code }, 'Redis unreachable; retrying')
  })
  return client
}

/** A lost cluster node is logged once in this time: until the cluster drops it, ioredis finds it again at every slot refresh. */
const NODE_LOSS_LOG_INTERVAL_MS = 60_000

function watchCluster (client: Cluster, log: Logger): Cluster {
  let ready = false
  const lossLogged = new Map<string, number>()
  client.on('ready', () => {
    ready = true
    log.info({ store: 'redis', nodes: client.nodes('master').length }, 'connected to Redis Cluster')
  })
  client.on('-node', (lost: Redis) => {
    const node = `${lost.options.host}:${lost.options.port}`
    // A quit or disconnect (the shutdown's) ends every node's connection too: no loss, no failover to follow.
    if (client.status === 'disconnecting' || client.status === 'end') return
    if (!ready || Date.now() - (lossLogged.get(node) ?? -Infinity) < NODE_LOSS_LOG_INTERVAL_MS) return
    lossLogged.set(node, Date.now())
    log.warn({ store: 'redis', node }, 'Redis Cluster node lost; following the cluster\'s failover')
  })
  client.on('close', () => { ready = false })
  client.on('end', () => { log.info({ store: 'redis' }, 'disconnected from Redis Cluster') })
  client.on('error', (err: Error & { lastNodeError?: NodeJS.ErrnoException }) => {
    const cause = err.lastNodeError
    if (cause?.message.includes('cluster support disabled') === true) {
      log.warn({ store: 'redis' }, 'REDIS_CLUSTER=true, but REDIS_URL is not a Redis Cluster node; retrying')
    } else if (!ready) {
      log.warn({ store: 'redis', code: cause?.code }, 'Redis Cluster unreachable; retrying')
    }
  })
  // A node's own errors (refused connections while it fails over) are followed by the cluster's retries and logs.
  client.on('node error', () => {})
  return client
}

/** The nodes that hold the keys: a cluster's masters, or the one node. */
export function dataNodes (client: RedisClient): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
}

/** Runs one Redis call; any failure to get an answer becomes a StoreUnavailableError (a 503). */
export async function askRedis<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new StoreUnavailableError(`Redis: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Methods named after Lua scripts, each taking its one key first, then its arguments;
 * the `…Buffer` form answers bulk strings as Buffers (binary values) instead of text.
 */
export type ScriptCommands<Name extends string> = { [name in Name | `${Name}Buffer`]: (...args: Array<string | number | Buffer>) => Promise<unknown> }

/**
 * `client` with one method per script of `scripts`. defineCommand sends EVALSHA, and the
 * script body only when Redis lacks it; a client shared by several stores defines each once.
 * One declared key each: on a cluster, the key that routes the call to its slot's master.
 */
export function withScripts<Client extends RedisClient, Scripts extends Record<string, string>> (client: Client, scripts: Scripts): Client & ScriptCommands<keyof Scripts & string> {
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in client)) client.defineCommand(name, { lua, numberOfKeys: 1 })
  }
  return client as Client & ScriptCommands<keyof Scripts & string>
}
