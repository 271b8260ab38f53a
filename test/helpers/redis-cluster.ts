import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { routingTagOf } from '../../src/tokens/token.js'
import { hashPassword } from '../../src/users/password.js'
import { freePort } from './free-port.js'

const run = promisify(execFile)

/** Free ports for one run, never the same twice (a cluster node needs two: clients and cluster bus). */
async function distinctFreePorts (count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

async function until (what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`test Redis: ${what} not reached in ${timeoutMs} ms`)
    await sleep(100)
  }
}

/** One command to a node, on a connection of its own that never retries. */
async function ask (port: number, ...command: string[]): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    return String(await client.call(command[0]!, ...command.slice(1)))
  } finally {
    client.disconnect()
  }
}

/** A redis-server of the test's own, without persistence, killed by `kill()` (SIGKILL: a crash, not a shutdown). */
export class RedisNode {
  readonly port: number
  readonly #process: ChildProcess

  private constructor (port: number, child: ChildProcess) {
    this.port = port
    this.#process = child
  }

  static async start (port: number, directory: string, extraArgs: string[] = []): Promise<RedisNode> {
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...extraArgs
    ], { stdio: 'ignore' })
    const node = new RedisNode(port, child)
    await until(`redis-server on port ${port}`, async () => await ask(port, 'PING') === 'PONG', 10_000)
    return node
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get alive (): boolean {
    return this.#process.exitCode === null && this.#process.signalCode === null
  }

  async kill (): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.#process.once('exit', resolve))
    this.#process.kill('SIGKILL')
    await exited
  }

  /** INFO `section` of this node, as field → value. */
  async info (section: string): Promise<Record<string, string>> {
    const text = await ask(this.port, 'INFO', section)
    return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':', 2) as [string, string]))
  }
}

/** One redis-server of the test's own (a single node), in a temporary directory removed by stop(). */
export async function startRedisServer (): Promise<{ node: RedisNode, url: string, stop: () => Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'redis-node-'))
  const node = await RedisNode.start(await freePort(), directory)
  return {
    node,
    url: node.url,
    stop: async () => {
      await node.kill()
      rmSync(directory, { recursive: true, force: true })
    }
  }
}

export interface TestRedisCluster {
  nodes: RedisNode[]
  /** Every node's URL, comma-separated: REDIS_URL for REDIS_CLUSTER=true. */
  url: string
  /** The node that serves `key` now, as the live nodes see it. */
  masterOf: (key: string) => Promise<RedisNode>
  stop: () => Promise<void>
}

/**
 * A Redis Cluster of the test's own: `masters` masters with one replica each, on free
 * ports (and free cluster-bus ports), in a temporary directory, created by
 * `redis-cli --cluster create` and returned once every node says cluster_state:ok and
 * every replica is in sync with its master. A node is declared failed after 2 s
 * unreachable (cluster-node-timeout), so a failover takes a few seconds.
 */
export async function startRedisCluster ({ masters = 3 }: { masters?: number } = {}): Promise<TestRedisCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'redis-cluster-'))
  const count = masters * 2
  const ports = await distinctFreePorts(count * 2)
  const nodes: RedisNode[] = []
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()))
    rmSync(directory, { recursive: true, force: true })
  }
  try {
    nodes.push(...await Promise.all(ports.slice(0, count).map((port, i) => RedisNode.start(port, directory, [
      '--cluster-enabled', 'yes', '--cluster-port', String(ports[count + i]), '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', '2000',
      // A failed master takes only its own slots down: the other shards answer throughout.
      '--cluster-require-full-coverage', 'no'
    ]))))
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'])
    await until('cluster_state:ok on every node', async () => {
      const states = await Promise.all(nodes.map((node) => ask(node.port, 'CLUSTER', 'INFO')))
      return states.every((state) => state.includes('cluster_state:ok'))
    })
    await until('every replica in sync', async () => {
      const replication = await Promise.all(nodes.map((node) => node.info('replication')))
      return replication.filter((info) => info.role === 'slave').length === masters &&
        replication.every((info) => info.role === 'master' || info.master_link_status === 'up')
    })
  } catch (err) {
    await stop()
    throw err
  }
  const masterOf = async (key: string): Promise<RedisNode> => {
    const live = nodes.find((node) => node.alive)!
    const slot = Number(await ask(live.port, 'CLUSTER', 'KEYSLOT', key))
    const owner = await ownerOfSlot(live.port, slot)
    return nodes.find((node) => node.port === owner)!
  }
  return { nodes, url: nodes.map((node) => node.url).join(','), masterOf, stop }
}

/** The port of the master that serves `slot`, from CLUSTER SLOTS of the node on `port`. */
async function ownerOfSlot (port: number, slot: number): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    const range = (await client.cluster('SLOTS')).find(([first, last]) => first <= slot && slot <= last)
    if (range === undefined) throw new Error(`slot ${slot} is served by no node`)
    return range[2]![1]
  } finally {
    client.disconnect()
  }
}

/**
 * `perMaster` usernames on each master of `cluster` (by their routing tag's slot), and a
 * USERS_FILE in `directory` where each has `password`: users whose tokens are spread
 * over every shard, for tests that must tell a failed shard's users from the others.
 */
export async function usersOnEveryShard (cluster: TestRedisCluster, directory: string, password: string, perMaster = 2): Promise<{ usersFile: string, byMaster: Map<RedisNode, string[]> }> {
  const byMaster = new Map<RedisNode, string[]>()
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
