import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { routingTagOf } from '../../src/tokens/token.js'
import { hashPassword } from '../../src/users/password.js'
import { freePort } from '../../bench/free-port.js'
import { RedisServer } from './redis-server.js'
import { requireBinary, skipWithout } from './system-binaries.js'

const run = promisify(execFile)

/** Whether `tests`, which start Redis Cluster nodes, are skipped (outside CI, without redis-server or redis-cli). */
export function skipWithoutRedisCluster (tests: string): boolean {
  return skipWithout('redis-server', tests) || skipWithout('redis-cli', tests)
}

/** Free ports for one run, never the same twice (a cluster node needs two: clients and cluster bus). */
async function distinctFreePorts (count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

async function until (what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`test Redis Cluster: ${what} not reached in ${timeoutMs} ms`)
    await sleep(100)
  }
}

/** One command to the node on `port`, on a connection of its own that never retries. */
export async function askNode (port: number, ...command: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.call(command[0]!, ...command.slice(1))
  } finally {
    client.disconnect()
  }
}

/** INFO `section` of the node on `port`, as field → value. */
export async function nodeInfo (port: number, section: string): Promise<Record<string, string>> {
  const text = String(await askNode(port, 'INFO', section))
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]))
}

export interface TestRedisCluster {
  nodes: RedisServer[]
  /** Every node's URL, comma-separated: REDIS_URL for REDIS_CLUSTER=true. */
  url: string
  /** The node that serves `key` now, as a live node sees it. */
  masterOf: (key: string) => Promise<RedisServer>
  stop: () => Promise<void>
}

/**
 * A Redis Cluster of the test's own: `masters` masters with one replica each, on free
 * ports (and free cluster-bus ports), their cluster files in a temporary directory, made by
 * `redis-cli --cluster create` and returned once every node says cluster_state:ok and every
 * replica is in sync. A node is declared failed after 2 s unreachable
 * (cluster-node-timeout), and a failed master takes only its own slots down
 * (cluster-require-full-coverage no, as README recommends), so a failover takes seconds.
 */
export async function startRedisCluster ({ masters = 3 }: { masters?: number } = {}): Promise<TestRedisCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
  const count = masters * 2
  const ports = await distinctFreePorts(count * 2)
  // Everything a node writes goes to the temporary directory: its cluster file, and the
  // copy of its master's data that a replica receives when it syncs.
  const nodes = ports.slice(0, count).map((port, i) => new RedisServer(port, [
    '--dir', directory, '--cluster-enabled', 'yes', '--cluster-port', String(ports[count + i]),
    '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', '2000', '--cluster-require-full-coverage', 'no'
  ]))
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()))
    rmSync(directory, { recursive: true, force: true })
  }
  try {
    await Promise.all(nodes.map((node) => node.start()))
    await run(requireBinary('redis-cli'), ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'])
    await until('cluster_state:ok on every node', async () => {
      const states = await Promise.all(nodes.map((node) => askNode(node.port, 'CLUSTER', 'INFO')))
      return states.every((state) => String(state).includes('cluster_state:ok'))
    })
    await until('every replica in sync', async () => {
      const replication = await Promise.all(nodes.map((node) => nodeInfo(node.port, 'replication')))
      return replication.filter((info) => info.role === 'slave').length === masters &&
        replication.every((info) => info.role === 'master' || info.master_link_status === 'up')
    })
  } catch (err) {
    await stop()
    throw err
  }
  const masterOf = async (key: string): Promise<RedisServer> => {
    const live = nodes.find((node) => node.running)!
    const slot = Number(await askNode(live.port, 'CLUSTER', 'KEYSLOT', key))
    const ranges = await askNode(live.port, 'CLUSTER', 'SLOTS') as Array<[number, number, [string, number, ...unknown[]]]>
    const range = ranges.find(([first, last]) => first <= slot && slot <= last)
    if (range === undefined) throw new Error(`slot ${slot} is served by no node`)
    return nodes.find((node) => node.port === range[2][1])!
  }
  return { nodes, url: nodes.map((node) => node.url).join(','), masterOf, stop }
}

/**
 * `perMaster` usernames on each master of `cluster` (by their routing tag's slot), and a
 * USERS_FILE in `directory` where each has `password`: users whose tokens are spread
 * over every shard, for tests that must tell a failed shard's users from the others.
 */
export async function usersOnEveryShard (cluster: TestRedisCluster, directory: string, password: string, perMaster = 2): Promise<{ usersFile: string, byMaster: Map<RedisServer, string[]> }> {
  const byMaster = new Map<RedisServer, string[]>()
  const masters = cluster.nodes.length / 2
  for (let n = 0; byMaster.size < masters || [...byMaster.values()].some((users) => users.length < perMaster); n++) {
    const username = `shard-user${n}@example.com`
    const master = await cluster.masterOf(`{${routingTagOf(username)}}`)
    const users = byMaster.get(master) ?? []
    if (users.length < perMaster) byMaster.set(master, [...users, username])
  }
  const hash = await hashPassword(password)
  const usersFile = join(directory, 'users.json')
  writeFileSync(usersFile, JSON.stringify([...byMaster.values()].flat().map((username) => ({ username, passwordHash: hash }))))
  return { usersFile, byMaster }
}
