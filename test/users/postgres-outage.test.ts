import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { hashPassword } from '../../src/users/password.js'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { buildTestApp, getData, login } from '../helpers/build-app.js'
import { createTestSchema, startTcpProxy, type TestSchema } from '../helpers/postgres.js'
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
