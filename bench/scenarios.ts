import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import argon2 from 'argon2'
import { Redis } from 'ioredis'
import { ARGON2_OPTIONS } from '../src/users/password.js'
import { concurrentLoads, measureLoad, type LoadResult, type Request } from './load.js'
import type { InjectReport } from './inject-child.js'
import type { MemoryReport } from './memory-child.js'
import type { BenchOptions } from './options.js'
import { measureRedis, validationCost, type RedisCost, type ValidationCostRound } from './redis-cost.js'
import { BenchServer, DEMO_CREDENTIALS, PROJECT_ROOT, TSX_LOADER } from './servers.js'
import { freePort } from './free-port.js'
import { medianBy } from './median.js'
import { RedisServer } from '../test/helpers/redis-server.js'
import { findBinary } from '../test/helpers/system-binaries.js'

const run = promisify(execFile)

/** What a scenario reports besides its loads: whether it ran, and why not. */
export interface ScenarioStatus {
  name: string
  completed: boolean
  /** Connection errors, timeouts and non-2xx answers of all its loads. */
  errors: number
  skipped?: string
}

export interface NamedLoad extends LoadResult { name: string }

export interface ThroughputResult {
  health: NamedLoad
  data: NamedLoad
  dataOverHttp: NamedLoad
  /** The peers (bench/peers): a bare Fastify route, and a @fastify/session check. */
  bareFastify: NamedLoad
  fastifySession: NamedLoad
  /** Every round of each, for the record (the table shows the medians). */
  rounds: NamedLoad[][]
}

export interface LoginResult {
  login: NamedLoad
  /** argon2.verify with ARGON2_OPTIONS in the benchmark's process, at the same concurrency. */
  argon2: { verifications: number, seconds: number, perSecond: number, concurrency: number, threadPool: number }
}

export interface FloodResult {
  alone: NamedLoad
  underFlood: NamedLoad
  flood: NamedLoad
}

export interface RedisResult {
  url: string
  /** Whether the Redis was the benchmark's own (its counters then are the benchmark's alone). */
  own: boolean
  data: NamedLoad
  /** Redis's own CPU (INFO cpu) per /business/data request, in microseconds, when it could be read. */
  redisCpuMicrosPerRequest: number | null
  /** Redis commands per /business/data request, by name. */
  commandsPerRequest: Record<string, number>
  /** A validation through RedisTokenStore, measured in Redis (the median round by CPU). */
  validation: RedisCost
  /** GET + PEXPIRE on the same session keys: a plain session store's validation (the median round). */
  floor: RedisCost
  rounds: ValidationCostRound[]
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const loginRequest: Request = { path: '/auth/login', method: 'POST', body: DEMO_CREDENTIALS }

const byRedisCpu = (cost: RedisCost) => cost.cpuMicrosPerOperation

function median (loads: LoadResult[], name: string): NamedLoad {
  return { name, ...medianBy(loads, (load) => load.cpuMicrosPerRequest) }
}

/** The servers of the throughput scenarios: the service, and its peers. */
export interface ThroughputServers {
  real: BenchServer
  /** The same app, business reaching auth over loopback HTTP (bench/fixtures). */
  httpBoundary: BenchServer
  bareFastify: BenchServer
  fastifySession: BenchServer
}

/**
 * GET /health (the ceiling), GET /business/data through inject, the same through
 * loopback HTTP (the peer server), and the two peers of bench/peers: a bare Fastify
 * route and a @fastify/session check (the session cookie of one login on each request).
 * Each after a warm-up, with the same connections and requests, in `rounds` rounds
 * taken in turn; each one's median round by CPU per request.
 */
export async function throughput (servers: ThroughputServers, options: BenchOptions): Promise<ThroughputResult> {
  const realToken = await servers.real.login()
  const peerToken = await servers.httpBoundary.login()
  const sessionCookie = await servers.fastifySession.sessionCookie()
  const load = { connections: options.connections, amount: options.requests, warmup: options.warmup }
  const scenarios: Array<[keyof Omit<ThroughputResult, 'rounds'>, string, BenchServer, Request]> = [
    ['health', 'GET /health', servers.real, { path: '/health' }],
    ['data', 'GET /business/data (inject)', servers.real, { path: '/business/data', headers: bearer(realToken) }],
    ['dataOverHttp', 'GET /business/data (loopback HTTP)', servers.httpBoundary, { path: '/business/data', headers: bearer(peerToken) }],
    ['bareFastify', 'bare Fastify, GET /health', servers.bareFastify, { path: '/health' }],
    ['fastifySession', 'Fastify + @fastify/session, GET /data', servers.fastifySession, { path: '/data', headers: { cookie: sessionCookie } }]
  ]
  const rounds: NamedLoad[][] = []
  for (let round = 0; round < options.rounds; round++) {
    const results: NamedLoad[] = []
    for (const [, name, server, request] of scenarios) results.push({ name, ...await measureLoad(server, request, load) })
    rounds.push(results)
  }
  const medians = Object.fromEntries(scenarios.map(([key, name], index) => [key, median(rounds.map((r) => r[index]!), name)]))
  return { ...medians as Omit<ThroughputResult, 'rounds'>, rounds }
}

/** Verifications of `password` against `hash` by `concurrency` loops for `seconds`. */
async function argon2Rate (hash: string, password: string, concurrency: number, seconds: number): Promise<{ verifications: number, seconds: number }> {
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  let verifications = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      if (!await argon2.verify(hash, password)) throw new Error('argon2: the benchmark hash does not verify')
      verifications += 1
    }
  }))
  return { verifications, seconds: (performance.now() - started) / 1000 }
}

/**
 * POST /auth/login with the demo user, then argon2.verify with the same parameters in
 * this process at the same concurrency (both with libuv's default pool of 4 threads).
 */
export async function login (server: BenchServer, options: BenchOptions): Promise<LoginResult> {
  const result = await measureLoad(server, loginRequest, { connections: options.connections, seconds: options.loginSeconds, warmup: options.connections })
  const hash = await argon2.hash('postman', ARGON2_OPTIONS)
  await argon2Rate(hash, 'postman', options.connections, Math.min(1, options.loginSeconds))
  const raw = await argon2Rate(hash, 'postman', options.connections, options.loginSeconds)
  return {
    login: { name: 'POST /auth/login', ...result },
    argon2: {
      ...raw,
      perSecond: raw.verifications / raw.seconds,
      concurrency: options.connections,
      threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4)
    }
  }
}

/** /business/data alone, then with a second load flooding POST /auth/login at the same time. */
export async function flood (server: BenchServer, options: BenchOptions): Promise<FloodResult> {
  const token = await server.login()
  const data: Request = { path: '/business/data', headers: bearer(token) }
  const alone = await measureLoad(server, data, { connections: options.connections, seconds: options.floodSeconds, warmup: options.warmup })
  const [underFlood, logins] = await concurrentLoads([{ server, request: data }, { server, request: loginRequest }], {
    connections: options.connections,
    seconds: options.floodSeconds
  })
  return {
    alone: { name: 'GET /business/data alone', ...alone },
    underFlood: { name: 'GET /business/data under the login flood', ...underFlood! },
    flood: { name: 'POST /auth/login (the flood)', ...logins! }
  }
}

/** The inject child (bench/inject-child.ts), in a process of its own: the hop taken apart. */
export async function inject (options: BenchOptions): Promise<InjectReport> {
  const { stdout } = await run(process.execPath, [
    '--import', TSX_LOADER, join(PROJECT_ROOT, 'bench/inject-child.ts'), String(options.requests), String(options.rounds)
  ], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as InjectReport
}

/** The memory child (bench/memory-child.ts) in a process of its own, with --expose-gc. */
export async function memory (options: BenchOptions): Promise<MemoryReport> {
  const { stdout } = await run(process.execPath, [
    '--expose-gc', '--import', TSX_LOADER, join(PROJECT_ROOT, 'bench/memory-child.ts'),
    options.memoryTokens.join(','), String(options.cleanupTokens)
  ], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1 << 20 })
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryReport
  if (!report.gcExposed) throw new Error('memory: the child ran without --expose-gc')
  return report
}

/** The Redis of the Redis scenario, and how to let it go. */
export interface BenchRedis {
  url: string
  /** Whether the benchmark started this Redis itself (so nothing else runs on it). */
  own: boolean
  stop: () => Promise<void>
}

/**
 * REDIS_URL when it is set and answers PING within a second; otherwise a redis-server of
 * the benchmark's own on a free port, when redis-server is installed, so that Redis's CPU
 * and command counts are this benchmark's alone; undefined when there is neither.
 */
export async function benchRedis (): Promise<BenchRedis | undefined> {
  const url = process.env.REDIS_URL
  if (url !== undefined && url !== '') {
    const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return { url, own: false, stop: async () => {} }
    } catch {
      return undefined
    } finally {
      client.disconnect()
    }
  }
  if (findBinary('redis-server') === undefined) return undefined
  const server = new RedisServer(await freePort())
  await server.start()
  return { url: server.url, own: true, stop: () => server.stop() }
}

/**
 * /business/data with TOKEN_STORE=redis, with Redis's CPU and commands per request; then,
 * on the same Redis, the cost of a validation side by side with the floor of a plain
 * session store (redis-cost.ts), in `rounds` alternating rounds. All under a key prefix of
 * its own, removed afterwards.
 */
export async function redis ({ url, own }: BenchRedis, options: BenchOptions, profileDir: string | undefined): Promise<RedisResult> {
  const prefix = `token-auth-bench:${randomUUID()}:`
  const server = await BenchServer.start({ name: 'server-redis', kind: 'real', env: { TOKEN_STORE: 'redis', REDIS_URL: url, REDIS_KEY_PREFIX: prefix }, profileDir })
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    const token = await server.login()
    const request: Request = { path: '/business/data', headers: bearer(token) }
    const load = { connections: options.connections, amount: options.requests, warmup: options.warmup }
    await measureLoad(server, request, { ...load, warmup: 0, amount: Math.max(options.warmup, options.connections) })
    // One "operation" of measureRedis: the whole measured load; per request below.
    let data: LoadResult | undefined
    const whole = await measureRedis(client, 1, 1, async () => { data = await measureLoad(server, request, { ...load, warmup: 0 }) })
    const requests = data!.requests
    const rounds = await validationCost(client, `${prefix}direct:`, {
      sessions: options.quick ? 100 : 1000, count: options.requests, concurrency: options.connections, rounds: options.rounds
    })
    return {
      url: url.replace(/\/\/[^@/]*@/, '//***@'),
      own,
      data: { name: 'GET /business/data (Redis store)', ...data! },
      redisCpuMicrosPerRequest: whole.cpuMicrosPerOperation === null || requests === 0 ? null : whole.cpuMicrosPerOperation / requests,
      commandsPerRequest: Object.fromEntries(Object.entries(whole.commandsPerOperation).map(([name, calls]) => [name, calls / requests])),
      validation: medianBy(rounds.map((round) => round.validation), byRedisCpu),
      floor: medianBy(rounds.map((round) => round.floor), byRedisCpu),
      rounds
    }
  } finally {
    await server.stop()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
    client.disconnect()
  }
}
