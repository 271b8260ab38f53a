import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { silentLogger, type Logger } from '../logger.js'
import { USER_REVOKED_CHANNEL } from './migrations.js'
import { CONNECTION_TIMEOUT_MS, QUERY_TIMEOUT_MS } from './postgres-user-store.js'

export interface RevocationListenerOptions {
  /** DATABASE_URL, the same as the user store's (its search_path picks the schema whose users count). */
  connectionString: string
  /** Called once for each notification about a user of this schema: revoke their tokens. */
  onRevoked: (username: string) => Promise<void>
  /**
   * Called after each (re)connection once LISTEN is in place: notifications sent while
   * the connection was down are lost, so this is where to catch up.
   */
  onListening?: () => Promise<void>
  log?: Logger
  /** First and longest wait between two connection attempts (defaults 100 ms and 5 s). */
  minDelayMs?: number
  maxDelayMs?: number
  /**
   * Period of a `SELECT 1` on the connection (default 30 s; also the longest a query may
   * take, up to the user store's QUERY_TIMEOUT_MS): a peer that vanished without closing
   * the connection is found by it, rather than by TCP after many minutes.
   */
  heartbeatMs?: number
}

/**
 * Holds one connection of its own (a pooled one would drop the LISTEN) on which
 * PostgreSQL announces disabled, removed and reset users (migrations.ts), and calls
 * `onRevoked` for each. When the connection breaks it reconnects with exponential
 * backoff and listens again.
 */
export class RevocationListener {
  readonly #options: RevocationListenerOptions
  readonly #log: Logger
  #client: pg.Client | undefined
  #schema: string | null = null
  #listening = false
  #connecting: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #attempt = 0
  #stopped = false

  constructor (options: RevocationListenerOptions) {
    this.#options = options
    this.#log = options.log ?? silentLogger
  }

  /** True while LISTEN is in place on a live connection, and the catch-up after connecting is done. */
  get listening (): boolean {
    return this.#listening
  }

  /** Connects and listens; resolves after the first attempt, whatever its outcome (a failure schedules the next). */
  start (): Promise<void> {
    return this.#connect()
  }

  /** Tries to connect now instead of at the end of the current backoff (when something else saw the database come back). */
  reconnectNow (): void {
    if (this.#stopped || this.#client !== undefined || this.#connecting !== undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#connect().catch(() => {})
  }

  async close (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    const client = this.#client
    this.#drop()
    // A connection to a peer gone silent would never finish ending: do not wait for it long.
    if (client !== undefined) await Promise.race([client.end().catch(() => {}), sleep(1000, undefined, { ref: false })])
    await this.#connecting
  }

  #connect (): Promise<void> {
    this.#connecting ??= this.#attemptConnection().finally(() => { this.#connecting = undefined })
    return this.#connecting
  }

  async #attemptConnection (): Promise<void> {
    if (this.#stopped) return
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      query_timeout: Math.min(QUERY_TIMEOUT_MS, this.#options.heartbeatMs ?? QUERY_TIMEOUT_MS),
      application_name: 'token-auth-service revocations'
    })
    client.on('error', (err: NodeJS.ErrnoException) => this.#lost(client, err))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message) => this.#notified(client, message))
    this.#client = client
    try {
      await client.connect()
      const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema')
      this.#schema = rows[0]?.schema ?? null
      await client.query(`LISTEN ${USER_REVOKED_CHANNEL}`)
    } catch (err) {
      if (client === this.#client) this.#lost(client, err as NodeJS.ErrnoException)
      else await client.end().catch(() => {})
      return
    }
    // Closed (or given up on) while connecting.
    if (client !== this.#client) {
      await client.end().catch(() => {})
      return
    }
    this.#attempt = 0
    this.#log.info({ store: 'postgres', channel: USER_REVOKED_CHANNEL }, 'listening for disabled and removed users')
    try {
      await this.#options.onListening?.()
    } catch (err) {
      this.#log.warn({ store: 'postgres', reason: (err as Error).message }, 'could not catch up on the users disabled while disconnected')
    }
    // Only now: whoever waits for `listening` (readiness) also waits for the catch-up.
    if (client !== this.#client) return
    this.#listening = true
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err: NodeJS.ErrnoException) => this.#lost(client, err))
    }, this.#options.heartbeatMs ?? 30_000)
    this.#heartbeat.unref()
  }

  #notified (client: pg.Client, message: pg.Notification): void {
    if (client !== this.#client || message.channel !== USER_REVOKED_CHANNEL || message.payload === undefined) return
    let payload: { schema?: unknown, username?: unknown }
    try {
      payload = JSON.parse(message.payload)
    } catch {
      return
    }
    // The channel is the database's: other schemas (other deployments, test runs) speak on it too.
    if (payload.schema !== this.#schema || typeof payload.username !== 'string') return
    const username = payload.username
    this.#options.onRevoked(username).catch((err: unknown) => {
      this.#log.warn({ store: 'postgres', username, reason: (err as Error).message }, 'could not revoke the tokens of a disabled user')
    })
  }

  /** The connection failed or broke: forget it and try again after a backoff. */
  #lost (client: pg.Client, err?: NodeJS.ErrnoException): void {
    if (client !== this.#client) return
    this.#drop()
    client.end().catch(() => {})
    if (this.#stopped) return
    const delay = Math.min((this.#options.minDelayMs ?? 100) * 2 ** this.#attempt, this.#options.maxDelayMs ?? 5000)
    this.#attempt += 1
    this.#log.warn({ store: 'postgres', code: err?.code, reason: err?.message ?? 'connection ended', retryInMs: delay }, 'not listening for disabled users; reconnecting')
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#connect().catch(() => {}) }, delay)
  }

  #drop (): void {
    clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
    this.#client = undefined
    this.#listening = false
  }
}
