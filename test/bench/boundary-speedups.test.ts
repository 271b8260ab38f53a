import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import helmet from 'helmet'
import { describe, expect, it } from 'vitest'
import { HELMET_OPTIONS } from '../../plugins/security-headers.js'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { digestToken, generateToken } from '../../src/tokens/token.js'
import { buildTestApp, getData, loginToken } from '../helpers/build-app.js'
import { LAPTOP } from '../helpers/devices.js'
import { failingTokenStore } from '../helpers/failing-store.js'
import { FakeClock } from '../helpers/fake-clock.js'

/*
 * The speed work of BENCHMARKS.md changes how things are done, never what they do:
 * these pin what the contract and the other tests do not spell out.
 */

describe('POST /auth/validateToken, as inject reaches it', () => {
  it('writes no log line of its own below warn, even at trace level', async () => {
    const testApp = await buildTestApp()
    const token = await loginToken(testApp.app)
    const before = testApp.logs.length
    expect((await getData(testApp.app, token)).statusCode).toBe(200)
    const lines = testApp.logs.slice(before)
    // The business request's own lines, and nothing from the injected call.
    expect(lines.map((line) => (line.req as { url?: string } | undefined)?.url).filter(Boolean)).toEqual(['/business/data'])
    expect(lines.filter((line) => line.msg === 'incoming request')).toHaveLength(1)
    expect(lines.filter((line) => line.msg === 'request completed')).toHaveLength(1)
  })

  it('still logs its errors, with its request id, when the store cannot be reached', async () => {
    const testApp = await buildTestApp({ tokenStore: failingTokenStore('reinflate') })
    const response = await getData(testApp.app, generateToken('ada@example.com'))
    expect(response.statusCode).toBe(503)
    const storeError = testApp.logs.find((line) => line.msg === 'store unavailable')
    expect(storeError).toMatchObject({ level: 50, reqId: expect.any(String) })
    // The injected call's request id, not the business request's.
    const businessLine = testApp.logs.find((line) => line.msg === 'the auth service could not validate the token')
    expect(businessLine).toMatchObject({ level: 50, reqId: expect.any(String) })
    expect(businessLine!.reqId).not.toBe(storeError!.reqId)
  })

  it('answers without security headers, which only a browser would read; the business answer keeps them', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const validation = await app.inject({ method: 'POST', url: '/auth/validateToken', payload: { token } })
    expect(validation.json()).toMatchObject({ authenticated: true })
    expect(validation.headers['x-frame-options']).toBeUndefined()
    expect(validation.headers['content-security-policy']).toBeUndefined()
    const data = await getData(app, token)
    expect(data.headers['x-frame-options']).toBe('DENY')
    expect(data.headers['content-security-policy']).toBeDefined()
  })
})

describe('the root plugins, at the cost of a bare route', () => {
  /** What helmet's own middleware sets on a real response, for each request, as @fastify/helmet ran it. */
  function helmetMiddlewareHeaders (): Record<string, string> {
    const response = new ServerResponse(new IncomingMessage(new Socket()))
    helmet(HELMET_OPTIONS)(response.req, response, (err?: unknown) => { if (err !== undefined) throw err })
    return Object.fromEntries(Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]))
  }

  it('sends every header helmet\'s middleware sets, with its value, on answers, errors and 404s alike', async () => {
    const expected = helmetMiddlewareHeaders()
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(10)
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    for (const answer of [
      await app.inject({ method: 'GET', url: '/health' }),
      await getData(app, token),
      await getData(app, 'not-a-token'),
      await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{' }),
      await app.inject({ method: 'GET', url: '/nowhere' })
    ]) {
      expect(answer.headers).toMatchObject(expected)
    }
  })

  it('times no request while METRICS is off, and records the auth counters all the same', async () => {
    const { app } = await buildTestApp()
    await getData(app, await loginToken(app))
    const names = (await app.metrics.registry.getMetricsAsJSON()).map((metric) => metric.name)
    expect(names).not.toContain('http_request_duration_seconds')
    expect(names).toContain('auth_token_validations_total')
    const on = await buildTestApp({ config: { METRICS: 'true' } })
    await on.app.inject({ method: 'GET', url: '/health' })
    expect(await on.app.metrics.registry.getSingleMetricAsString('http_request_duration_seconds')).toContain('route="/health"')
  })

  it('redacts the secret fields by name, at the top of a line and in its user, and err.rawPacket', async () => {
    const testApp = await buildTestApp()
    const secret = 'a-secret-that-must-not-be-logged'
    testApp.app.log.info({ token: secret, password: secret, passwordHash: secret }, 'top')
    testApp.app.log.info({ user: { token: secret, password: secret, passwordHash: secret } }, 'user')
    testApp.app.log.info({ err: Object.assign(new Error('bad request'), { rawPacket: Buffer.from(secret) }) }, 'client error')
    expect(testApp.rawLogs()).not.toContain(secret)
    const lines = testApp.logs.filter((line) => ['top', 'user', 'client error'].includes(line.msg as string))
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatchObject({ token: '[redacted]', password: '[redacted]', passwordHash: '[redacted]' })
    expect(lines[1]).toMatchObject({ user: { token: '[redacted]', password: '[redacted]', passwordHash: '[redacted]' } })
    expect(lines[2]).toMatchObject({ err: { message: 'bad request', rawPacket: '[redacted]' } })
  })
})

describe('MemoryTokenStore layout (slots, shards, sliced cleanup)', () => {
  const users = ['ada@example.com', 'bob@example.com', 'eve@example.com']

  async function fill (store: MemoryTokenStore, count: number, now: number, into: Map<string, string>): Promise<void> {
    for (let i = 0; i < count; i++) {
      const username = users[i % users.length]!
      const digest = digestToken(generateToken(username))
      await store.issue(digest, username, LAPTOP, now)
      into.set(digest, username)
    }
  }

  it('removes exactly the expired tokens, whether a few or most of them expired', async () => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 120))
    const old = new Map<string, string>()
    const recent = new Map<string, string>()
    await fill(store, 20_000, clock.now(), old)
    clock.advanceSeconds(20)
    await fill(store, 10_000, clock.now(), recent)
    clock.advanceSeconds(15)
    // Two thirds expire: most shards rebuild their map.
    expect(await store.removeExpired(clock.now())).toBe(20_000)
    expect(await store.size()).toBe(10_000)
    const fresh = new Map<string, string>()
    await fill(store, 30_000, clock.now(), fresh)
    clock.advanceSeconds(20)
    // A quarter expires: shards delete entries one by one.
    expect(await store.removeExpired(clock.now())).toBe(10_000)
    expect(await store.size()).toBe(30_000)
    for (const digest of [...old.keys()].slice(0, 500)) expect(await store.reinflate(digest, clock.now())).toBeNull()
    for (const [digest, username] of [...fresh].slice(0, 500)) expect(await store.reinflate(digest, clock.now())).toMatchObject({ username })
    const listed = await store.listForUser('ada@example.com', clock.now())
    expect(listed).toHaveLength(10_000)
  })

  // Most expired: shards rebuild their maps; fewer: shards delete one by one, yielding midway.
  it.each([[40_000, 30_000], [20_000, 40_000]])('stays consistent when requests run during the yields of a long cleanup (%i expired, %i live)', async (expiring, live) => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 120))
    const expired = new Map<string, string>()
    const kept = new Map<string, string>()
    await fill(store, expiring, clock.now(), expired)
    clock.advanceSeconds(20)
    await fill(store, live, clock.now(), kept)
    clock.advanceSeconds(15)

    const cleanup = store.removeExpired(clock.now())
    // Meanwhile, between the cleanup's slices: new tokens, uses, revocations.
    const added = new Map<string, string>()
    const revoked = [...kept.keys()].slice(0, 1000)
    for (let turn = 0; turn < 20; turn++) {
      await new Promise((resolve) => setImmediate(resolve))
      await fill(store, 50, clock.now(), added)
      for (const digest of revoked.slice(turn * 50, turn * 50 + 50)) expect(await store.revoke(digest, clock.now())).not.toBeNull()
      for (const digest of [...kept.keys()].slice(2000 + turn * 10, 2010 + turn * 10)) expect(await store.reinflate(digest, clock.now())).not.toBeNull()
    }
    expect(await cleanup).toBe(expiring)

    expect(await store.size()).toBe(live - 1000 + 1000)
    for (const digest of revoked.slice(0, 100)) expect(await store.reinflate(digest, clock.now())).toBeNull()
    for (const [digest, username] of [...added].slice(0, 300)) expect(await store.reinflate(digest, clock.now())).toMatchObject({ username })
    const perUser = await Promise.all(users.map((username) => store.listForUser(username, clock.now())))
    expect(perUser.reduce((sum, list) => sum + list.length, 0)).toBe(live)
    for (const digest of [...expired.keys()].slice(0, 300)) expect(await store.reinflate(digest, clock.now())).toBeNull()
  })

  it('serves on after emptying itself, and after revoking every token of every user', async () => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 120))
    const tokens = new Map<string, string>()
    await fill(store, 5000, clock.now(), tokens)
    clock.advanceSeconds(31)
    expect(await store.removeExpired(clock.now())).toBe(5000)
    expect(await store.size()).toBe(0)

    const again = new Map<string, string>()
    await fill(store, 3000, clock.now(), again)
    for (const username of users) expect(await store.revokeAllForUser(username)).toBe(1000)
    expect(await store.size()).toBe(0)
    const last = digestToken(generateToken('ada@example.com'))
    await store.issue(last, 'ada@example.com', LAPTOP, clock.now())
    expect(await store.reinflate(last, clock.now())).toMatchObject({ username: 'ada@example.com', refreshCount: 1 })
    expect(await store.listForUser('ada@example.com', clock.now())).toHaveLength(1)
  })
})
