import { createServer, type AddressInfo, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { hashPassword } from '../../src/users/password.js'
import { PostgresUserStore, USER_STORE_TIMEOUT_MS } from '../../src/users/postgres-user-store.js'
import { buildTestApp, getData, login } from '../helpers/build-app.js'
import { createTestSchema, startTcpProxy, TEST_DATABASE_URL, withSearchPath, type TestSchema } from '../helpers/postgres.js'
import { waitFor } from '../helpers/wait-for.js'

const PASSWORD = 'correct horse battery staple'

let schema: TestSchema
beforeAll(async () => {
  schema = await createTestSchema()
  const store = new PostgresUserStore({ connectionString: schema.url })
  await store.add('ada@example.com', await hashPassword(PASSWORD))
  await store.close()
})
afterAll(async () => { await schema.drop() })

function ready (app: FastifyInstance) {
  return app.inject({ method: 'GET', url: '/health/ready' })
}

function waitUntilReady (app: FastifyInstance): Promise<void> {
  return waitFor(async () => (await ready(app)).statusCode === 200, { timeoutMs: 10_000, intervalMs: 100, what: 'readiness' })
}

/** What the test allows beyond the store's bound: the scheduling of a busy machine, and the dummy argon2 check. */
const SLACK_MS = 1000

/** `promise`'s outcome, or a failure naming the wait once `ms` have passed without one. */
async function answerWithin<T> (promise: Promise<T>, ms: number): Promise<T> {
  const abandon = new AbortController()
  const timeout = sleep(ms, undefined, { signal: abandon.signal }).then(() => { throw new Error(`no answer within ${ms} ms`) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    abandon.abort()
    timeout.catch(() => {})
  }
}

async function appThroughProxy () {
  const proxy = await startTcpProxy()
  onTestFinished(() => proxy.cut())
  return { proxy, url: proxy.urlThrough(schema.url) }
}

describe('USER_STORE=postgres when PostgreSQL goes away', () => {
  it('answers 503 to login and readiness, never 500, and recovers without a restart', async () => {
    const { proxy, url } = await appThroughProxy()
    const { app, rawLogs } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: url, LOGIN_MAX_PER_IP: 1000 } })
    expect((await ready(app)).statusCode).toBe(200)
    const first = await login(app, 'ada@example.com', PASSWORD)
    expect(first.statusCode).toBe(200)
    const { token } = first.json<{ token: string }>()

    await proxy.cut()
    const refused = await login(app, 'ada@example.com', PASSWORD)
    expect(refused.statusCode).toBe(503)
    expect(refused.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' })
    expect(refused.headers['retry-after']).toBeDefined()
    const notReady = await ready(app)
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json()).toEqual({ status: 'unavailable', unavailable: ['user-store'] })
    // Tokens live elsewhere: a token already given keeps working while users cannot be read.
    expect((await getData(app, token)).statusCode).toBe(200)

    await proxy.restore()
    await waitUntilReady(app)
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)
    expect(rawLogs()).not.toContain(PASSWORD)
  })

  it('starts while PostgreSQL is away, answers 503, then migrates and serves once it is there', async () => {
    const fresh = await createTestSchema()
    onTestFinished(() => fresh.drop())
    const { proxy } = await appThroughProxy()
    await proxy.cut()
    const { app, logs } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: proxy.urlThrough(fresh.url), LOGIN_MAX_PER_IP: 1000 } })
    expect(logs.some((line) => line.level === 50 && String(line.msg).includes('PostgreSQL unavailable at start'))).toBe(true)
    expect((await ready(app)).statusCode).toBe(503)
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(503)

    await proxy.restore()
    await waitUntilReady(app)
    // The schema was empty: the users table exists now, and an unknown user is a 401.
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(401)
    const store = new PostgresUserStore({ connectionString: fresh.url })
    onTestFinished(() => store.close())
    await store.add('ada@example.com', await hashPassword(PASSWORD))
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)
  })

  it('revokes the tokens of a user disabled while the server was cut off from PostgreSQL, once it reconnects', async () => {
    const { proxy, url } = await appThroughProxy()
    const store = new PostgresUserStore({ connectionString: schema.url })
    onTestFinished(() => store.close())
    await store.add('missed@example.com', await hashPassword(PASSWORD))
    const { app } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: url, LOGIN_MAX_PER_IP: 1000 } })
    const { token } = (await login(app, 'missed@example.com', PASSWORD)).json<{ token: string }>()

    await proxy.cut()
    await store.setDisabled('missed@example.com', true)
    expect((await getData(app, token)).statusCode).toBe(200)
    await proxy.restore()
    await waitUntilReady(app)
    expect((await getData(app, token)).statusCode).toBe(401)
  })
})

describe('USER_STORE=postgres when PostgreSQL hangs', () => {
  it(`answers a login whose connection froze mid-query with 503 within ${USER_STORE_TIMEOUT_MS} ms, and never makes other logins wait for it`, async () => {
    const { proxy, url } = await appThroughProxy()
    // One password check at a time: a lookup that held the slot would hold every other login.
    const { app } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: url, HASH_CONCURRENCY: 1, LOGIN_MAX_PER_IP: 1000 } })
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)

    // The pool's open connection goes silent; the next login's lookup is sent on it and gets no answer.
    proxy.freeze()
    const startedAt = Date.now()
    let frozenAnswered = false
    const frozen = login(app, 'ada@example.com', PASSWORD).finally(() => { frozenAnswered = true })
    // Meanwhile a later login gets a new connection, and its password check at once.
    const later = await answerWithin(login(app, 'ada@example.com', PASSWORD), USER_STORE_TIMEOUT_MS)
    expect(later.statusCode).toBe(200)
    expect(frozenAnswered).toBe(false)

    const refused = await answerWithin(frozen, USER_STORE_TIMEOUT_MS + SLACK_MS)
    expect(Date.now() - startedAt).toBeLessThanOrEqual(USER_STORE_TIMEOUT_MS + SLACK_MS)
    expect(refused.statusCode).toBe(503)
    expect(refused.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' })
    expect(refused.headers['retry-after']).toBeDefined()
    // The frozen connection was dropped, not given back to the pool: logins go on.
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)
  })

  it('answers login and readiness 503 within the bound while PostgreSQL hangs (a relay under SIGSTOP), and recovers when it answers again', async () => {
    const { proxy, url } = await appThroughProxy()
    const { app } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: url, HASH_CONCURRENCY: 1, LOGIN_MAX_PER_IP: 1000 } })
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)
    expect((await ready(app)).statusCode).toBe(200)

    // Open connections go silent, and new ones are accepted but never answered.
    proxy.stall()
    for (let i = 0; i < 2; i++) {
      const startedAt = Date.now()
      const refused = await answerWithin(login(app, 'ada@example.com', PASSWORD), USER_STORE_TIMEOUT_MS + SLACK_MS)
      expect(refused.statusCode).toBe(503)
      expect(Date.now() - startedAt).toBeLessThanOrEqual(USER_STORE_TIMEOUT_MS + SLACK_MS)
    }
    const notReady = await answerWithin(ready(app), USER_STORE_TIMEOUT_MS + SLACK_MS)
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json()).toEqual({ status: 'unavailable', unavailable: ['user-store'] })

    proxy.resume()
    await waitUntilReady(app)
    expect((await login(app, 'ada@example.com', PASSWORD)).statusCode).toBe(200)
  })

  it('answers 503 within the bound when PostgreSQL accepts connections but never answers', async () => {
    const held = new Set<Socket>()
    const silent = createServer((socket) => { held.add(socket) })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => {
      for (const socket of held) socket.destroy()
      silent.close(() => resolve())
    }))
    const target = new URL(withSearchPath(TEST_DATABASE_URL, schema.name))
    target.hostname = '127.0.0.1'
    target.port = String((silent.address() as AddressInfo).port)

    const { app } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: target.href, LOGIN_MAX_PER_IP: 1000 } })
    const startedAt = Date.now()
    const refused = await answerWithin(login(app, 'ada@example.com', PASSWORD), USER_STORE_TIMEOUT_MS + SLACK_MS)
    expect(refused.statusCode).toBe(503)
    expect(Date.now() - startedAt).toBeLessThanOrEqual(USER_STORE_TIMEOUT_MS + SLACK_MS)
    expect((await answerWithin(ready(app), USER_STORE_TIMEOUT_MS + SLACK_MS)).statusCode).toBe(503)
  })
})
