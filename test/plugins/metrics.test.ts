import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CLEANUP_OUTCOMES, LOGIN_OUTCOMES, VALIDATION_OUTCOMES } from '../../plugins/auth/metrics.js'
import { UNMATCHED_ROUTE } from '../../plugins/metrics.js'
import { removeExpiredTokens } from '../../src/tokens/remove-expired-tokens.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, getData, login, loginToken } from '../helpers/build-app.js'
import { failingTokenStore } from '../helpers/failing-store.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

async function scrape (app: FastifyInstance): Promise<Sample[]> {
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  expect(response.statusCode, response.body).toBe(200)
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(response.body)
}

/** The value of the one sample with this name and (at least) these labels; 0 when there is none. */
function valueOf (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value ?? 0
}

/** The service's own series: every label value comes from a fixed set. */
function expectFixedLabelValues (samples: Sample[], secrets: string[], routes: string[]) {
  const own = samples.filter((sample) => /^(auth_|http_request_)/.test(sample.name))
  expect(own.length).toBeGreaterThan(0)
  const allowed: Record<string, readonly string[]> = {
    outcome: [...LOGIN_OUTCOMES, ...VALIDATION_OUTCOMES, ...CLEANUP_OUTCOMES],
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'],
    route: [...routes, UNMATCHED_ROUTE]
  }
  for (const sample of own) {
    for (const [key, value] of Object.entries(sample.labels)) {
      for (const secret of secrets) expect(value).not.toContain(secret)
      if (key === 'le') continue
      if (key === 'status_code') expect(value).toMatch(/^[1-5][0-9]{2}$/)
      else expect(allowed[key], `label ${key} of ${sample.name}`).toContain(value)
    }
  }
}

describe('GET /metrics', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is not there unless METRICS is on: 404, as an unknown route', async () => {
    const { app } = await buildTestApp()
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
    const off = await buildTestApp({ config: { METRICS: 'false' } })
    expect((await off.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
  })

  it('counts logins, validations, tokens, cleanup runs and requests, with fixed label values', async () => {
    // Before buildApp: toad-scheduler arms its interval when the cleanup plugin registers. Only
    // intervals: faked timeouts would make under-pressure's sampler see a blocked event loop.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { app, clock } = await buildTestApp({ config: { METRICS: 'true', CLEANUP_INTERVAL_SECONDS: 10 } })

    const before = await scrape(app)
    for (const outcome of LOGIN_OUTCOMES) expect(valueOf(before, 'auth_logins_total', { outcome })).toBe(0)
    expect(valueOf(before, 'auth_tokens_stored')).toBe(0)

    const token = await loginToken(app)
    expect((await login(app, DEMO_USERNAME, `${DEMO_PASSWORD}-wrong`)).statusCode).toBe(401)
    expect((await getData(app, token)).statusCode).toBe(200)
    const unknownToken = 'B'.repeat(32)
    expect((await getData(app, unknownToken)).statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: '/business/data', headers: { token: 'not-a-token' } })).statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: '/business/data' })).statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: `/no/such/route?token=${token}` })).statusCode).toBe(404)

    const afterCalls = await scrape(app)
    expect(valueOf(afterCalls, 'auth_logins_total', { outcome: 'success' })).toBe(1)
    expect(valueOf(afterCalls, 'auth_logins_total', { outcome: 'failure' })).toBe(1)
    expect(valueOf(afterCalls, 'auth_token_validations_total', { outcome: 'valid' })).toBe(1)
    expect(valueOf(afterCalls, 'auth_token_validations_total', { outcome: 'invalid' })).toBe(1)
    expect(valueOf(afterCalls, 'auth_token_validations_total', { outcome: 'malformed' })).toBe(1)
    expect(valueOf(afterCalls, 'auth_tokens_stored')).toBe(1)
    expect(valueOf(afterCalls, 'auth_cleanup_duration_seconds_count', { outcome: 'success' })).toBe(0)

    const requests = (method: string, route: string, status: number) =>
      valueOf(afterCalls, 'http_request_duration_seconds_count', { method, route, status_code: String(status) })
    expect(requests('POST', '/auth/login', 200)).toBe(1)
    expect(requests('POST', '/auth/login', 401)).toBe(1)
    expect(requests('GET', '/business/data', 200)).toBe(1)
    expect(requests('GET', '/business/data', 401)).toBe(3)
    // The business service's in-process calls to validateToken are part of the request that made
    // them: counted as validations, not timed again as requests.
    expect(requests('POST', '/auth/validateToken', 200)).toBe(0)
    expect(requests('GET', UNMATCHED_ROUTE, 404)).toBe(1)
    expect(requests('GET', '/metrics', 200)).toBe(1)

    // One cleanup run, once the token has expired.
    clock.advanceSeconds(31)
    await vi.advanceTimersByTimeAsync(10_000)

    const afterCleanup = await scrape(app)
    expect(valueOf(afterCleanup, 'auth_cleanup_removed_tokens_total')).toBe(1)
    expect(valueOf(afterCleanup, 'auth_cleanup_duration_seconds_count', { outcome: 'success' })).toBe(1)
    expect(valueOf(afterCleanup, 'auth_cleanup_duration_seconds_count', { outcome: 'failure' })).toBe(0)
    expect(valueOf(afterCleanup, 'auth_cleanup_duration_seconds_bucket', { outcome: 'success', le: '+Inf' })).toBe(1)
    expect(valueOf(afterCleanup, 'auth_tokens_stored')).toBe(0)
    // Default Node.js metrics come along, from this app's registry.
    expect(afterCleanup.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true)

    const routes = ['/auth/login', '/auth/validateToken', '/business/data', '/metrics']
    expectFixedLabelValues(afterCleanup, [DEMO_USERNAME, token, unknownToken, 'not-a-token', 'no/such'], routes)
    const raw = (await app.inject({ method: 'GET', url: '/metrics' })).body
    for (const secret of [DEMO_USERNAME, DEMO_PASSWORD, token, unknownToken]) expect(raw).not.toContain(secret)
  })

  it('counts the original /login path as the login route', async () => {
    const { app } = await buildTestApp({ config: { METRICS: 'true' } })
    expect((await app.inject({ method: 'POST', url: '/login', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/login', payload: { username: DEMO_USERNAME } })).statusCode).toBe(400)
    const samples = await scrape(app)
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'success' })).toBe(1)
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'invalid_request' })).toBe(1)
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: '/auth/login', status_code: '200' })).toBe(1)
  })

  it('counts a throttled login as throttled', async () => {
    const { app } = await buildTestApp({ config: { METRICS: 'true', LOGIN_MAX_PER_IP: 1 } })
    expect((await login(app)).statusCode).toBe(200)
    expect((await login(app)).statusCode).toBe(429)
    const samples = await scrape(app)
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'success' })).toBe(1)
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'throttled' })).toBe(1)
  })

  it('counts the validations of forward auth and of the routes that take a token', async () => {
    const { app } = await buildTestApp({ config: { METRICS: 'true', FORWARD_AUTH: 'true' } })
    const token = await loginToken(app)
    await app.inject({ method: 'GET', url: '/auth/verify', headers: { token } })
    await app.inject({ method: 'GET', url: '/auth/verify', headers: { token: 'C'.repeat(32) } })
    await app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${token}` } })
    const samples = await scrape(app)
    expect(valueOf(samples, 'auth_token_validations_total', { outcome: 'valid' })).toBe(2)
    expect(valueOf(samples, 'auth_token_validations_total', { outcome: 'invalid' })).toBe(1)
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: '/auth/verify', status_code: '200' })).toBe(1)
    expect(valueOf(samples, 'http_request_duration_seconds_count', { route: '/auth/verify', status_code: '401' })).toBe(1)
  })

  it('counts a failed cleanup run as a failure', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const store = failingTokenStore('removeExpired', new Error('store hiccup'))
    const { app, clock } = await buildTestApp({ config: { METRICS: 'true', CLEANUP_INTERVAL_SECONDS: 10 }, tokenStore: store })
    await expect(removeExpiredTokens(store, clock, app.log)).rejects.toThrow('store hiccup')
    // The scheduled run, which fails the same way, is the one the app's metrics hear of.
    await vi.advanceTimersByTimeAsync(10_000)
    const samples = await scrape(app)
    expect(valueOf(samples, 'auth_cleanup_duration_seconds_count', { outcome: 'failure' })).toBe(1)
    expect(valueOf(samples, 'auth_cleanup_removed_tokens_total')).toBe(0)
  })

  it('keeps each app\'s counts apart: every app has its own registry', async () => {
    const first = await buildTestApp({ config: { METRICS: 'true' } })
    const second = await buildTestApp({ config: { METRICS: 'true' } })
    await loginToken(first.app)
    await loginToken(first.app)
    await loginToken(second.app)
    expect(valueOf(await scrape(first.app), 'auth_logins_total', { outcome: 'success' })).toBe(2)
    expect(valueOf(await scrape(second.app), 'auth_logins_total', { outcome: 'success' })).toBe(1)
    expect(valueOf(await scrape(first.app), 'auth_tokens_stored')).toBe(2)
  })

  it('records even when not served, so that turning METRICS on changes nothing else', async () => {
    const { app } = await buildTestApp()
    await loginToken(app)
    const text = await app.metrics.registry.getSingleMetricAsString('auth_logins_total')
    expect(valueOf(parseExposition(text), 'auth_logins_total', { outcome: 'success' })).toBe(1)
  })
})
