import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import { hashPassword } from '../../src/users/password.js'
import { isUnavailableError, PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { buildTestApp, login } from '../helpers/build-app.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { describeUserStore, HASH_A } from './user-store.contract.js'

// These tests need PostgreSQL (DATABASE_URL, or the server of the tests' own that the
// global setup starts): they never skip. Each file has its own schema.
let schema: TestSchema
beforeAll(async () => { schema = await createTestSchema() })
afterAll(async () => { await schema.drop() })

function openStore (url = schema.url): PostgresUserStore {
  const store = new PostgresUserStore({ connectionString: url, connectionTimeoutMs: 1000 })
  onTestFinished(() => store.close())
  return store
}

describeUserStore('PostgresUserStore', async () => {
  const store = openStore()
  await store.migrate()
  await schema.query('TRUNCATE users')
  return store
})

describe('PostgresUserStore', () => {
  it('keeps its users in the users table of its schema, the hash as given', async () => {
    const store = openStore()
    await store.migrate()
    await schema.query('TRUNCATE users')
    await store.add('Ada@Example.com', HASH_A)
    const { rows } = await schema.query('SELECT id, username, password_hash, disabled, created_at, updated_at FROM users')
    expect(rows).toEqual([{ id: expect.any(String), username: 'Ada@Example.com', password_hash: HASH_A, disabled: false, created_at: expect.any(Date), updated_at: expect.any(Date) }])
  })

  it('sees the changes another instance makes (two servers, one database)', async () => {
    const first = openStore()
    const second = openStore()
    await first.migrate()
    await schema.query('TRUNCATE users')
    await first.add('ada@example.com', HASH_A)
    expect(await second.findByUsername('ADA@example.com')).toEqual({ username: 'ada@example.com', passwordHash: HASH_A })
    await second.setDisabled('ada@example.com', true)
    expect(await first.findByUsername('ada@example.com')).toBeUndefined()
  })

  it('refuses, in the database too, a hash that is not an argon2 PHC string', async () => {
    const store = openStore()
    await store.migrate()
    await expect(store.add('plain@example.com', 'hunter2')).rejects.toMatchObject({ code: '23514' })
    await expect(store.add('plain@example.com', 'hunter2')).rejects.not.toBeInstanceOf(StoreUnavailableError)
  })

  it('turns a PostgreSQL it cannot reach into StoreUnavailableError, promptly, for every operation', async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const store = openStore('postgres://postgres@127.0.0.1:1/test')
    const started = Date.now()
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.findByUsername('ada@example.com')).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.updatePasswordHash('ada@example.com', { from: HASH_A, to: HASH_A })).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.add('ada@example.com', HASH_A)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.list()).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.migrate()).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('answers StoreUnavailableError for a database that does not exist, without the URL in the message', async () => {
    const url = new URL(schema.url)
    url.pathname = '/no_such_database_here'
    url.password = 'sekrit-password'
    const store = openStore(url.href)
    const error = await store.ping().catch((err: unknown) => err)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).message).not.toContain('sekrit-password')
  })

  it('is unusable once closed, with StoreUnavailableError', async () => {
    const store = openStore()
    await store.ping()
    await store.close()
    await expect(store.findByUsername('ada@example.com')).rejects.toBeInstanceOf(StoreUnavailableError)
  })

  it('serves a login whose username holds a control character (U+0000 included) as the memory store does: 400, no error line', async () => {
    const store = openStore()
    await store.add('nul@example.com', await hashPassword('correct horse battery staple'))
    const { app, logs } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: schema.url } })
    for (const username of ['nul\u0000@example.com', 'nul@example.com\u0000', '\u0000', 'nul@example.com\n']) {
      const answer = await login(app, username, 'correct horse battery staple')
      expect(answer.statusCode, JSON.stringify(username)).toBe(400)
      expect(answer.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' })
    }
    expect(logs.filter((line) => (line.level as number) >= 50)).toEqual([])
    expect((await login(app, 'nul@example.com', 'correct horse battery staple')).statusCode).toBe(200)
  })

  describe('isUnavailableError', () => {
    it('tells outages from faults of the query', () => {
      expect(isUnavailableError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true)
      expect(isUnavailableError(new Error('Connection terminated unexpectedly'))).toBe(true)
      expect(isUnavailableError(Object.assign(new Error('the database system is shutting down'), { code: '57P03' }))).toBe(true)
      expect(isUnavailableError(Object.assign(new Error('too many connections'), { code: '53300' }))).toBe(true)
      expect(isUnavailableError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false)
      expect(isUnavailableError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false)
      expect(isUnavailableError(new TypeError('x is not a function'))).toBe(false)
    })
  })
})
