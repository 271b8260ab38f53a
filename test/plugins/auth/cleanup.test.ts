import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { buildTestApp, loginToken, type TestApp } from '../../helpers/build-app.js'
import { failingTokenStore } from '../../helpers/failing-store.js'

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
    let failures = 1
    const store = failingTokenStore('removeExpired', new Error('store hiccup'), () => failures-- > 0)
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
