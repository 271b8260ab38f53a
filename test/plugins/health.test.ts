import { describe, expect, it, vi } from 'vitest'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { buildTestApp, getData, loginToken } from '../helpers/build-app.js'
import { failingTokenStore } from '../helpers/failing-store.js'

describe('GET /health', () => {
  it('answers 200 {status: "ok"}', async () => {
    const { app } = await buildTestApp()
    const response = await app.inject({ method: 'GET', url: '/health' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('answers 200 even when the token store is unreachable (liveness, not readiness)', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('ping') })
    const response = await app.inject({ method: 'GET', url: '/health' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('answers 404 to a method it does not serve', async () => {
    const { app } = await buildTestApp()
    expect((await app.inject({ method: 'POST', url: '/health' })).statusCode).toBe(404)
  })
})

describe('GET /health/ready', () => {
  it('answers 200 {status: "ready"} when the token store answers', async () => {
    const { app } = await buildTestApp()
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ready' })
  })

  it('checks the token store', async () => {
    const { app } = await buildTestApp()
    expect([...app.readinessChecks.keys()]).toContain('token-store')
  })

  it('answers 503 naming the token store when its ping rejects', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('ping') })
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ status: 'unavailable', unavailable: ['token-store'] })
  })

  it('answers 503 when the ping rejects with any error, and logs it at warn', async () => {
    const store = failingTokenStore('ping', new Error('socket closed'))
    const testApp = await buildTestApp({ tokenStore: store })
    const response = await testApp.app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ status: 'unavailable', unavailable: ['token-store'] })
    // `logs` is a getter: read it after the request, not when destructuring.
    expect(testApp.logs.some((line) => line.msg === 'not ready' && line.level === 40)).toBe(true)
  })

  it('becomes ready again when the store answers again', async () => {
    let reachable = false
    const store = failingTokenStore('ping', new StoreUnavailableError('down'), () => !reachable)
    const { app } = await buildTestApp({ tokenStore: store })
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    reachable = true
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ready' })
  })

  it('answers 503 when the ping hangs, after the check timeout, not never', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
      store.ping = () => new Promise<void>(() => {})
      const { app } = await buildTestApp({ tokenStore: store })
      let settled = false
      const pending = app.inject({ method: 'GET', url: '/health/ready' }).finally(() => { settled = true })
      await vi.advanceTimersByTimeAsync(1_999)
      expect(settled).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      const response = await pending
      expect(response.statusCode).toBe(503)
      expect(response.json()).toEqual({ status: 'unavailable', unavailable: ['token-store'] })
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not stop the other routes when not ready', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('ping') })
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    expect((await getData(app, await loginToken(app))).statusCode).toBe(200)
  })
})
