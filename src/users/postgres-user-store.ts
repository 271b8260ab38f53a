import pg from 'pg'
import { silentLogger, type Logger } from '../logger.js'
import { StoreUnavailableError } from '../store-unavailable-error.js'
import { runMigrations, USER_REVOKED_CHANNEL, type MigrationOutcome } from './migrations.js'
import {
  DuplicateUserError, normalizeUsername, UnknownUserError,
  type PasswordHashUpdate, type User, type UserAdmin, type UserSummary
} from './user-store.js'

export interface PostgresUserStoreOptions {
  /** DATABASE_URL. A schema other than `public` goes in it: `?options=-c%20search_path%3Dmy_schema`. */
  connectionString: string
  log?: Logger
  /** Connections of the pool (default 10). */
  maxConnections?: number
  /** How long to wait for a connection before answering StoreUnavailableError (default CONNECTION_TIMEOUT_MS). */
  connectionTimeoutMs?: number
}

/** The longest wait for a connection, from the pool or a new one (a server that accepts and stays silent included). */
export const CONNECTION_TIMEOUT_MS = 2000
/**
 * The longest a query may take once sent: node-postgres gives up on a connection that
 * stays silent (`query_timeout`), and PostgreSQL itself stops a statement that runs, or
 * waits on a lock, for longer (`statement_timeout`) rather than work on for no one.
 */
export const QUERY_TIMEOUT_MS = 2000
/** The longest any query of the store waits for PostgreSQL before it fails with StoreUnavailableError (README). */
export const USER_STORE_TIMEOUT_MS = CONNECTION_TIMEOUT_MS + QUERY_TIMEOUT_MS

/**
 * SQLSTATE classes that mean "the database cannot serve now", not "this query is wrong":
 * connection exception, insufficient resources, operator intervention (a shutdown),
 * system error, invalid authorization, unknown database.
 */
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58', '28', '3D'])
const UNIQUE_VIOLATION = '23505'

/** True when `err` says PostgreSQL could not be reached or could not serve, rather than a fault of the query. */
export function isUnavailableError (err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return false
  const code = (err as { code?: unknown }).code
  // Network errors (ECONNREFUSED, ETIMEDOUT...) and pg's own ("Connection terminated
  // unexpectedly", a connection timeout) have no five-character SQLSTATE.
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true
  return UNAVAILABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))
}

interface UserRow {
  username: string
  password_hash: string
  disabled: boolean
  created_at: Date
  updated_at: Date
}

/**
 * Users in PostgreSQL, in the `users` table of migrations.ts, through a pool of
 * node-postgres connections. The migrations run before the first query (and again after
 * a failure), so a store created while PostgreSQL is down serves once it is back,
 * without a restart. Every error of a database that cannot be reached, or that does not
 * answer within USER_STORE_TIMEOUT_MS, becomes a StoreUnavailableError, which the HTTP
 * layer answers with 503; a connection that timed out is dropped, not reused.
 */
export class PostgresUserStore implements UserAdmin {
  readonly #pool: pg.Pool
  readonly #log: Logger
  #migrated: Promise<MigrationOutcome> | undefined
  #closed = false

  constructor (options: PostgresUserStoreOptions) {
    this.#log = options.log ?? silentLogger
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      statement_timeout: QUERY_TIMEOUT_MS,
      // A connection frozen inside a transaction (a migration) must not hold its locks for ever.
      idle_in_transaction_session_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'token-auth-service'
    })
    // An idle connection that breaks (a restart of PostgreSQL) is reported here; without
    // a listener it would be an uncaught error. The pool replaces it on next use.
    this.#pool.on('error', (err: NodeJS.ErrnoException) => {
      this.#log.warn({ store: 'postgres', code: err.code, reason: err.message }, 'PostgreSQL connection lost')
    })
  }

  /**
   * Applies pending migrations, once per store while they succeed; a failure is
   * forgotten so that the next call tries again.
   */
  migrate (): Promise<MigrationOutcome> {
    this.#migrated ??= this.#runMigrations().catch((err: unknown) => {
      this.#migrated = undefined
      throw err
    })
    return this.#migrated
  }

  async #runMigrations (): Promise<MigrationOutcome> {
    const client = await this.#connect()
    let outcome: MigrationOutcome
    try {
      outcome = await runMigrations(client)
    } catch (err) {
      // Not back to the pool: a connection that timed out may still be busy with the statement.
      client.release(true)
      throw translate(err)
    }
    client.release()
    if (outcome.applied.length > 0) {
      this.#log.info({ store: 'postgres', applied: outcome.applied.map((m) => `${m.version} ${m.name}`), version: outcome.version }, 'database migrated')
    }
    return outcome
  }

  /** Resolves when the database answers and its schema is up to date; rejects with StoreUnavailableError otherwise. */
  async ping (): Promise<void> {
    await this.#query('SELECT 1')
  }

  async findByUsername (username: string): Promise<User | undefined> {
    const { rows } = await this.#query<Pick<UserRow, 'username' | 'password_hash'>>(
      'SELECT username, password_hash FROM users WHERE lower(username) = lower($1) AND NOT disabled',
      [normalizeUsername(username)]
    )
    const row = rows[0]
    return row === undefined ? undefined : { username: row.username, passwordHash: row.password_hash }
  }

  async updatePasswordHash (username: string, { from, to }: PasswordHashUpdate): Promise<boolean> {
    const { rowCount } = await this.#query(
      'UPDATE users SET password_hash = $3, updated_at = now() WHERE lower(username) = lower($1) AND password_hash = $2',
      [normalizeUsername(username), from, to]
    )
    return rowCount === 1
  }

  async has (username: string): Promise<boolean> {
    const { rowCount } = await this.#query('SELECT 1 FROM users WHERE lower(username) = lower($1)', [normalizeUsername(username)])
    return rowCount === 1
  }

  async add (username: string, passwordHash: string): Promise<void> {
    try {
      await this.#query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', [username.trim(), passwordHash])
    } catch (err) {
      if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) throw new DuplicateUserError(username.trim())
      throw err
    }
  }

  /** Also tells the listening servers to revoke the user's tokens: a reset password ends the sessions made with the old one. */
  async setPassword (username: string, passwordHash: string): Promise<string> {
    const { rows } = await this.#query<{ username: string }>(`
      WITH changed AS (
        UPDATE users SET password_hash = $2, updated_at = now() WHERE lower(username) = lower($1) RETURNING username
      )
      SELECT username, pg_notify($3, json_build_object('schema', current_schema(), 'username', username)::text) FROM changed`,
    [normalizeUsername(username), passwordHash, USER_REVOKED_CHANNEL])
    return storedUsername(rows, username)
  }

  /** Disabling notifies the listening servers (a trigger, see migrations.ts), even when the user was disabled already. */
  async setDisabled (username: string, disabled: boolean): Promise<string> {
    const { rows } = await this.#query<{ username: string }>(
      'UPDATE users SET disabled = $2, updated_at = now() WHERE lower(username) = lower($1) RETURNING username',
      [normalizeUsername(username), disabled]
    )
    return storedUsername(rows, username)
  }

  /** Deleting notifies the listening servers (a trigger, see migrations.ts). */
  async remove (username: string): Promise<string> {
    const { rows } = await this.#query<{ username: string }>('DELETE FROM users WHERE lower(username) = lower($1) RETURNING username', [normalizeUsername(username)])
    return storedUsername(rows, username)
  }

  async list (): Promise<UserSummary[]> {
    const { rows } = await this.#query<Omit<UserRow, 'password_hash'>>(
      'SELECT username, disabled, created_at, updated_at FROM users ORDER BY lower(username) COLLATE "C"'
    )
    return rows.map((row) => ({ username: row.username, disabled: row.disabled, createdAt: row.created_at, updatedAt: row.updated_at }))
  }

  /** The usernames of the disabled users, for a server that reconnects and may have missed their notifications. */
  async disabledUsernames (): Promise<string[]> {
    const { rows } = await this.#query<{ username: string }>('SELECT username FROM users WHERE disabled')
    return rows.map((row) => row.username)
  }

  /** Ends the pool's connections; the store is unusable afterwards. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }

  async #query<Row extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    await this.migrate()
    try {
      return await this.#pool.query<Row>(text, values)
    } catch (err) {
      throw translate(err)
    }
  }

  async #connect (): Promise<pg.PoolClient> {
    if (this.#closed) throw new StoreUnavailableError('The PostgreSQL user store is closed')
    try {
      return await this.#pool.connect()
    } catch (err) {
      throw translate(err)
    }
  }
}

/** The username of the one row a change touched; UnknownUserError when it touched none. */
function storedUsername (rows: Array<{ username: string }>, asked: string): string {
  const row = rows[0]
  if (row === undefined) throw new UnknownUserError(asked.trim())
  return row.username
}

/** A StoreUnavailableError for a database that cannot serve; any other error as it is. */
function translate (err: unknown): unknown {
  if (err instanceof StoreUnavailableError || !isUnavailableError(err)) return err
  const { code, message } = err as { code?: string, message?: string }
  return new StoreUnavailableError(`PostgreSQL cannot be reached${code === undefined ? '' : ` (${code})`}: ${message ?? String(err)}`, { cause: err })
}
