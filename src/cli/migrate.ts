import pg from 'pg'
import { ConfigError, loadConfig } from '../config.js'
import { runMigrations } from '../users/migrations.js'
import { isUnavailableError } from '../users/postgres-user-store.js'

/**
 * Applies the pending migrations of the PostgreSQL user store at DATABASE_URL (from the
 * environment or .env), then says which; the server also does it at start. Idempotent,
 * and safe while servers start: they all take the same advisory lock.
 *   npm run migrate
 * Exit status: 0 done (or nothing to do), 1 PostgreSQL failed or cannot be reached, 2 configuration.
 */
async function main (): Promise<number> {
  const config = loadConfig(process.env, { dotenv: true })
  if (config.DATABASE_URL === undefined) throw new ConfigError('DATABASE_URL is not set: it names the PostgreSQL database to migrate')
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000, application_name: 'token-auth-service migrate' })
  client.on('error', () => {})
  try {
    await client.connect()
    const { applied, version } = await runMigrations(client)
    for (const migration of applied) console.log(`Applied migration ${migration.version}: ${migration.name}`)
    console.log(applied.length === 0 ? `The database is up to date (version ${version})` : `The database is at version ${version}`)
    return 0
  } finally {
    await client.end().catch(() => {})
  }
}

try {
  process.exitCode = await main()
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exitCode = 2
  } else {
    // pg's messages name the host and the failure, never DATABASE_URL (which may hold a password).
    const { code, message } = err as { code?: string, message: string }
    console.error(`${isUnavailableError(err) ? 'Cannot reach PostgreSQL' : 'Migration failed'}${code === undefined ? '' : ` (${code})`}: ${message}`)
    process.exitCode = 1
  }
}
