import type { FastifyBaseLogger } from 'fastify'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { removeExpiredTokens } from '../../plugins/cleanup.js'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { digestToken, generateToken } from '../../src/tokens/token.js'
import { buildTestApp, loginToken, type TestApp } from '../helpers/build-app.js'
import { FakeClock } from '../helpers/fake-clock.js'

function fakeLogger () {
  const log = {
    fatal: vi.fn(),
    error: vi.fn(),
    warn: vi.fn(),
    info: vi.fn(),
    debug: vi.fn(),
    trace: vi.fn(),
    silent: vi.fn(),
    child: vi.fn(),
    level: 'trace'
  }
  log.child.mockReturnValue(log)
  return log
}

describe('removeExpiredTokens', () => {
  async function storeWithTokens (clock: FakeClock) {
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', clock.now())
    await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', clock.now())
    clock.advanceSeconds(20)
    await store.issue(digestToken(generateToken('alan@example.com')), 'alan@example.com', clock.now())
    return store
  }

  it('removes the expired tokens and logs the counts at info', async () => {
    const clock = new FakeClock()
    const store = await storeWithTokens(clock)
    clock.advanceSeconds(10) // the first two are 30 s old, the last 10 s
    const log = fakeLogger()

    const removed = await removeExpiredTokens(store, clock, log as unknown as FastifyBaseLogger)

    expect(removed).toBe(2)
    expect(await store.size()).toBe(1)
    expect(await store.listForUser('alan@example.com', clock.now())).toHaveLength(1)
    expect(log.info).toHaveBeenCalledTimes(1)
    expect(log.info).toHaveBeenCalledWith({ removed: 2, remaining: 1 }, 'expired tokens removed')
    expect(log.debug).not.toHaveBeenCalled()
  })

  it('removes nothing live, and logs at debug only, when nothing has expired', async () => {
    const clock = new FakeClock()
    const store = await storeWithTokens(clock)
    clock.advanceSeconds(9) // the oldest are 29 s old
    const log = fakeLogger()

    const removed = await removeExpiredTokens(store, clock, log as unknown as FastifyBaseLogger)

    expect(removed).toBe(0)
    expect(await store.size()).toBe(3)
    expect(log.debug).toHaveBeenCalledTimes(1)
    expect(log.debug).toHaveBeenCalledWith({ removed: 0, remaining: 3 }, 'no expired tokens')
    expect(log.info).not.toHaveBeenCalled()
  })

  it('logs at debug for an empty store', async () => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    const log = fakeLogger()
    expect(await removeExpiredTokens(store, clock, log as unknown as FastifyBaseLogger)).toBe(0)
    expect(log.debug).toHaveBeenCalledWith({ removed: 0, remaining: 0 }, 'no expired tokens')
    expect(log.info).not.toHaveBeenCalled()
  })

  it('removes everything once everything has expired', async () => {
    const clock = new FakeClock()
    const store = await storeWithTokens(clock)
    clock.advanceSeconds(60)
    const log = fakeLogger()
    expect(await removeExpiredTokens(store, clock, log as unknown as FastifyBaseLogger)).toBe(3)
    expect(log.info).toHaveBeenCalledWith({ removed: 3, remaining: 0 }, 'expired tokens removed')
  })

  it('never writes a token or a digest in its log arguments', async () => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    const token = generateToken('ada@example.com')
    await store.issue(digestToken(token), 'ada@example.com', clock.now())
    clock.advanceSeconds(30)
    const log = fakeLogger()
    await removeExpiredTokens(store, clock, log as unknown as FastifyBaseLogger)
    const written = JSON.stringify([...log.info.mock.calls, ...log.debug.mock.calls])
    expect(written).toContain('removed')
    expect(written).not.toContain(token)
    expect(written).not.toContain(digestToken(token))
  })
})

describe('the scheduled cleanup job', () => {
  beforeEach(() => {
    // Before buildApp: toad-scheduler arms its interval when the plugin registers. Only
    // intervals are faked: @fastify/under-pressure samples the event loop with setTimeout,
    // and racing its sampler through fake seconds would read as an overloaded loop.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  function cleanupLines (testApp: TestApp) {
    return testApp.logs.filter((line) => line.msg === 'expired tokens removed' || line.msg === 'no expired tokens')
  }

  async function sessionCount (testApp: TestApp): Promise<number> {
    const token = await loginToken(testApp.app)
    const response = await testApp.app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })
    return response.json<{ sessions: unknown[] }>().sessions.length
  }

  it('removes expired tokens every CLEANUP_INTERVAL_SECONDS, and stops when the server closes', async () => {
    const testApp = await buildTestApp({ config: { CLEANUP_INTERVAL_SECONDS: 10 } })
    const { app, clock } = testApp
    await loginToken(app)
    clock.advanceSeconds(31)

    await vi.advanceTimersByTimeAsync(9_999)
    expect(cleanupLines(testApp)).toEqual([])

    await vi.advanceTimersByTimeAsync(1)
    const removedLines = testApp.logs.filter((line) => line.msg === 'expired tokens removed')
    expect(removedLines).toHaveLength(1)
    expect(removedLines[0]).toMatchObject({ level: 30, removed: 1, remaining: 0 })

    // The next run finds nothing more, and says so at debug.
    await vi.advanceTimersByTimeAsync(10_000)
    expect(testApp.logs.filter((line) => line.msg === 'no expired tokens')).toHaveLength(1)
    expect(testApp.logs.filter((line) => line.msg === 'no expired tokens')[0]).toMatchObject({ level: 20, removed: 0, remaining: 0 })

    const before = cleanupLines(testApp).length
    await app.close()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(cleanupLines(testApp)).toHaveLength(before)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('leaves only the fresh session after a run', async () => {
    const testApp = await buildTestApp({ config: { CLEANUP_INTERVAL_SECONDS: 10 } })
    await loginToken(testApp.app)
    testApp.clock.advanceSeconds(31)
    await vi.advanceTimersByTimeAsync(10_000)
    // Only the store's size tells the job ran: the expired token was removed, not merely refused.
    expect(testApp.logs.filter((line) => line.msg === 'expired tokens removed')[0]).toMatchObject({ removed: 1, remaining: 0 })
    expect(await sessionCount(testApp)).toBe(1)
  })

  it('removes only expired tokens', async () => {
    const testApp = await buildTestApp({ config: { CLEANUP_INTERVAL_SECONDS: 10 } })
    await loginToken(testApp.app)
    testApp.clock.advanceSeconds(20)
    const live = await loginToken(testApp.app)
    testApp.clock.advanceSeconds(11)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(testApp.logs.filter((line) => line.msg === 'expired tokens removed')[0]).toMatchObject({ removed: 1, remaining: 1 })
    const response = await testApp.app.inject({ method: 'GET', url: '/business/data', headers: { token: live } })
    expect(response.statusCode).toBe(200)
  })

  it('does not run before its interval', async () => {
    const testApp = await buildTestApp({ config: { CLEANUP_INTERVAL_SECONDS: 25 } })
    await loginToken(testApp.app)
    testApp.clock.advanceSeconds(31)
    await vi.advanceTimersByTimeAsync(24_999)
    expect(cleanupLines(testApp)).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(testApp.logs.filter((line) => line.msg === 'expired tokens removed')[0]).toMatchObject({ removed: 1, remaining: 0 })
  })

  it('logs a failing run at error and keeps running', async () => {
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    let failures = 1
    const removeExpired = store.removeExpired.bind(store)
    store.removeExpired = async (now) => {
      if (failures-- > 0) throw new Error('store hiccup')
      return removeExpired(now)
    }
    const testApp = await buildTestApp({ config: { CLEANUP_INTERVAL_SECONDS: 10 }, tokenStore: store })
    await loginToken(testApp.app)
    testApp.clock.advanceSeconds(31)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(testApp.logs.filter((line) => line.msg === 'token cleanup failed')).toHaveLength(1)
    expect(testApp.logs.filter((line) => line.msg === 'token cleanup failed')[0]).toMatchObject({ level: 50 })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(testApp.logs.filter((line) => line.msg === 'expired tokens removed')[0]).toMatchObject({ removed: 1, remaining: 0 })
  })
})
