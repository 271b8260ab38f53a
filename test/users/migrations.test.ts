import pg from 'pg'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { MIGRATIONS, runMigrations, USER_REVOKED_CHANNEL, type Migration } from '../../src/users/migrations.js'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { HASH_A } from './user-store.contract.js'

// Each test migrates schemas of its own, all dropped when the file ends.
const schemas: TestSchema[] = []
afterAll(async () => { for (const schema of schemas) await schema.drop() })

async function freshSchema (): Promise<TestSchema> {
  const schema = await createTestSchema()
  schemas.push(schema)
  return schema
}

async function connectTo (schema: TestSchema): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: schema.url })
  await client.connect()
  onTestFinished(() => client.end())
  return client
}

async function recordedVersions (schema: TestSchema): Promise<number[]> {
  const { rows } = await schema.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
  return rows.map((row) => row.version)
}

describe('runMigrations', () => {
  it('creates the users table on an empty schema and records each version', async () => {
    const schema = await freshSchema()
    const outcome = await runMigrations(await connectTo(schema))
    expect(outcome.applied.map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version))
    expect(outcome.version).toBe(MIGRATIONS.at(-1)!.version)
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version))
    const { rows } = await schema.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = \'users\' ORDER BY ordinal_position', [schema.name])
    expect(rows.map((row) => row.column_name)).toEqual(['id', 'username', 'password_hash', 'disabled', 'created_at', 'updated_at'])
  })

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    const schema = await freshSchema()
    const client = await connectTo(schema)
    await runMigrations(client)
    await schema.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', ['ada@example.com', HASH_A])
    const again = await runMigrations(client)
    expect(again).toEqual({ applied: [], version: MIGRATIONS.at(-1)!.version })
    expect((await schema.query('SELECT username FROM users')).rows).toEqual([{ username: 'ada@example.com' }])
  })

  it('is safe when many instances start at once: each migration is applied exactly once', async () => {
    const schema = await freshSchema()
    const clients = await Promise.all(Array.from({ length: 8 }, () => connectTo(schema)))
    const outcomes = await Promise.all(clients.map((client) => runMigrations(client)))
    expect(outcomes.flatMap((outcome) => outcome.applied.map((m) => m.version)).sort()).toEqual(MIGRATIONS.map((m) => m.version))
    expect(outcomes.every((outcome) => outcome.version === MIGRATIONS.at(-1)!.version)).toBe(true)
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('applies only the migrations added since the last run, in order', async () => {
    const schema = await freshSchema()
    const client = await connectTo(schema)
    await runMigrations(client)
    const later: Migration[] = [
      { version: 11, name: 'second', sql: 'ALTER TABLE users ADD COLUMN note2 text' },
      { version: 10, name: 'first', sql: 'ALTER TABLE users ADD COLUMN note1 text' }
    ]
    const outcome = await runMigrations(client, [...MIGRATIONS, ...later])
    expect(outcome.applied.map((m) => m.name)).toEqual(['first', 'second'])
    expect(outcome.version).toBe(11)
    expect(await runMigrations(client, [...MIGRATIONS, ...later])).toMatchObject({ applied: [] })
  })

  it('rolls a failing run back entirely, and the next run starts over', async () => {
    const schema = await freshSchema()
    const client = await connectTo(schema)
    await runMigrations(client)
    const broken: Migration[] = [
      { version: 20, name: 'fine', sql: 'ALTER TABLE users ADD COLUMN note text' },
      { version: 21, name: 'broken', sql: 'ALTER TABLE no_such_table ADD COLUMN x text' }
    ]
    await expect(runMigrations(client, [...MIGRATIONS, ...broken])).rejects.toMatchObject({ code: '42P01' })
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version))
    const { rows } = await schema.query('SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND column_name = \'note\'', [schema.name])
    expect(rows).toEqual([])
    const fixed = await runMigrations(client, [...MIGRATIONS, broken[0]!])
    expect(fixed.applied.map((m) => m.version)).toEqual([20])
  })

  it('keeps schemas apart: migrating one leaves another empty', async () => {
    const migrated = await freshSchema()
    const untouched = await freshSchema()
    await runMigrations(await connectTo(migrated))
    const { rows } = await untouched.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [untouched.name])
    expect(rows).toEqual([])
  })

  it('makes the username unique without regard to case, in the database itself', async () => {
    const schema = await freshSchema()
    await runMigrations(await connectTo(schema))
    await schema.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', ['Ada@Example.com', HASH_A])
    await expect(schema.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', ['ada@example.COM', HASH_A]))
      .rejects.toMatchObject({ code: '23505' })
  })
})

describe('migration 2 (users.email becomes username)', () => {
  it('keeps the users of a database at version 1, and what the schema does for them', async () => {
    const schema = await freshSchema()
    const client = await connectTo(schema)
    const [first, second] = MIGRATIONS
    await runMigrations(client, [first!])
    await schema.query('INSERT INTO users (email, password_hash, disabled) VALUES ($1, $2, true)', ['Ada@Example.com', HASH_A])
    expect(await runMigrations(client)).toMatchObject({ applied: [second], version: 2 })

    expect((await schema.query('SELECT username, password_hash, disabled FROM users')).rows)
      .toEqual([{ username: 'Ada@Example.com', password_hash: HASH_A, disabled: true }])
    // Still unique without regard to case, still an argon2 hash only.
    await expect(schema.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', ['ada@example.COM', HASH_A]))
      .rejects.toMatchObject({ code: '23505' })
    await expect(schema.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', ['bob@example.com', 'hunter2']))
      .rejects.toMatchObject({ code: '23514' })
    // Still announced by its trigger, with the username, when deleted.
    await client.query(`LISTEN ${USER_REVOKED_CHANNEL}`)
    const notified = new Promise<string | undefined>((resolve) => client.once('notification', (message) => resolve(message.payload)))
    await schema.query('DELETE FROM users')
    expect(JSON.parse((await notified)!)).toEqual({ schema: schema.name, username: 'Ada@Example.com' })
  })
})

describe('PostgresUserStore migrations', () => {
  it('migrates before its first query, once', async () => {
    const schema = await freshSchema()
    const store = new PostgresUserStore({ connectionString: schema.url })
    onTestFinished(() => store.close())
    expect(await store.findByUsername('ada@example.com')).toBeUndefined()
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version))
    expect(await store.migrate()).toBe(await store.migrate())
  })
})
