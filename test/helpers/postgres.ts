import { randomBytes } from 'node:crypto'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import pg from 'pg'
import { inject } from 'vitest'

/** The PostgreSQL the tests use: DATABASE_URL when set, else the server the global setup started. */
export const TEST_DATABASE_URL = inject('databaseUrl')

/** `url` with its search_path set to `schema`, as libpq's `options` parameter (which node-postgres honours). */
export function withSearchPath (url: string, schema: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${schema}`)
  return parsed.href
}

export interface TestSchema {
  name: string
  /** TEST_DATABASE_URL with this schema first in the search_path. */
  url: string
  /** Runs SQL in this schema on a connection of its own. */
  query: <Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<Row>>
  /** Drops the schema and everything in it. */
  drop: () => Promise<void>
}

/** A new, empty schema that no other run or test file shares. */
export async function createTestSchema (): Promise<TestSchema> {
  const name = `test_${randomBytes(6).toString('hex')}`
  await runSql(TEST_DATABASE_URL, `CREATE SCHEMA ${name}`)
  const url = withSearchPath(TEST_DATABASE_URL, name)
  return {
    name,
    url,
    query: (text, values) => runSql(url, text, values),
    drop: async () => { await runSql(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS ${name} CASCADE`) }
  }
}

async function runSql<Row extends pg.QueryResultRow> (url: string, text: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query<Row>(text, values)
  } finally {
    await client.end()
  }
}

/** A TCP relay in front of PostgreSQL that a test cuts and restores, to play an outage. */
export interface TcpProxy {
  port: number
  /** `url` with its host and port replaced by the proxy's. */
  urlThrough: (url: string) => string
  /** Stops accepting connections and breaks every open one. */
  cut: () => Promise<void>
  /** Accepts connections again, on the same port. */
  restore: () => Promise<void>
  /** Stops relaying on the open connections without closing them (a peer gone silent); new ones work. */
  freeze: () => void
  /**
   * As a relay under SIGSTOP: the open connections go silent, and new ones are accepted
   * (the kernel would complete their handshake) but never answered, until `resume`.
   */
  stall: () => void
  /** Relays again on every connection that `freeze` or `stall` silenced and that is still open. */
  resume: () => void
}

/** Starts a relay to the host and port of `url` on a free port of the loopback; `cut` it when done. */
export async function startTcpProxy (url: string = TEST_DATABASE_URL): Promise<TcpProxy> {
  const target = new URL(url)
  const pairs = new Set<[Socket, Socket]>()
  const frozen = new Set<[Socket, Socket]>()
  let stalled = false
  const silence = (pair: [Socket, Socket]) => {
    const [incoming, outgoing] = pair
    incoming.unpipe(outgoing)
    outgoing.unpipe(incoming)
    incoming.pause()
    outgoing.pause()
    frozen.add(pair)
  }
  const freeze = () => {
    for (const pair of pairs) silence(pair)
    pairs.clear()
  }
  const server = createServer((incoming) => {
    const outgoing = connect(Number(target.port || 5432), target.hostname)
    const pair: [Socket, Socket] = [incoming, outgoing]
    for (const socket of pair) {
      socket.on('close', () => { pairs.delete(pair); frozen.delete(pair) })
      socket.on('error', () => { incoming.destroy(); outgoing.destroy() })
    }
    if (stalled) {
      silence(pair)
      return
    }
    pairs.add(pair)
    incoming.pipe(outgoing).pipe(incoming)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    urlThrough: (original) => {
      const through = new URL(original)
      through.hostname = '127.0.0.1'
      through.port = String(port)
      return through.href
    },
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const [incoming, outgoing] of [...pairs, ...frozen]) {
        incoming.destroy()
        outgoing.destroy()
      }
      await closed
    },
    restore: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
    }),
    freeze,
    stall: () => {
      stalled = true
      freeze()
    },
    resume: () => {
      stalled = false
      for (const pair of frozen) {
        const [incoming, outgoing] = pair
        pairs.add(pair)
        // pipe() resumes the paused sockets: what waited in them flows on.
        incoming.pipe(outgoing).pipe(incoming)
      }
      frozen.clear()
    }
  }
}
