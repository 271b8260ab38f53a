import type { TestProject } from 'vitest/node'
import { freePort } from '../bench/free-port.js'
import { PostgresServer } from './helpers/postgres-server.js'
import { RedisServer } from './helpers/redis-server.js'
import { findBinary } from './helpers/system-binaries.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** REDIS_URL, else the redis-server started for this run; undefined without either (never in CI). */
    redisUrl: string | undefined
    /** DATABASE_URL, else the PostgreSQL server started for this run. */
    databaseUrl: string
  }
}

type Server = RedisServer | PostgresServer

async function startRedis (servers: Server[]): Promise<string | undefined> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL
  // Outside CI, the Redis tests skip without redis-server; in CI its absence fails the run here.
  if (findBinary('redis-server') === undefined && !process.env.CI) return undefined
  const redis = new RedisServer(await freePort())
  servers.push(redis)
  await redis.start()
  return redis.url
}

async function startPostgres (servers: Server[]): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL
  const postgres = await PostgresServer.start()
  servers.push(postgres)
  return postgres.url
}

/**
 * Once per run, the servers the tests share: Redis and PostgreSQL on free ports of the
 * loopback, unless REDIS_URL and DATABASE_URL name servers to use. The tests read their
 * URLs with inject(). The servers stop when the run ends, and also when vitest exits early
 * (Ctrl-C, SIGTERM): its exit handler calls process.exit, and the `exit` event stops them.
 */
export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  const servers: Server[] = []
  const stopNow = () => { for (const server of servers) server.stopNow() }
  process.once('exit', stopNow)
  const teardown = async () => {
    process.off('exit', stopNow)
    await Promise.all(servers.map((server) => server.stop()))
  }

  try {
    project.provide('databaseUrl', await startPostgres(servers))
    project.provide('redisUrl', await startRedis(servers))
  } catch (err) {
    await teardown()
    throw err
  }
  return teardown
}
