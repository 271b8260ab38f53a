import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { hashPassword } from '../../src/users/password.js'
import { MAX_TOKEN_LENGTH } from '../../plugins/shared/token-validation.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, loginToken } from '../helpers/build-app.js'

const OTHER_USER = 'grace@example.com'
const OTHER_PASSWORD = 'another-secret'
let usersFile: string

beforeAll(async () => {
  usersFile = join(mkdtempSync(join(tmpdir(), 'hardening-')), 'users.json')
  writeFileSync(usersFile, JSON.stringify([
    { username: DEMO_USERNAME, passwordHash: await hashPassword(DEMO_PASSWORD) },
    { username: OTHER_USER, passwordHash: await hashPassword(OTHER_PASSWORD) }
  ]))
})

function attempt (app: FastifyInstance, username: string, password: string, remoteAddress = '203.0.113.1', url = '/auth/login') {
  return app.inject({ method: 'POST', url, remoteAddress, payload: { username, password } })
}

describe('login throttling', () => {
  it('answers 429 with Retry-After once one client address has tried too often', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_IP: 3, USERS_FILE: usersFile } })
    for (let i = 0; i < 3; i++) expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD)).statusCode).toBe(200)
    const refused = await attempt(app, DEMO_USERNAME, DEMO_PASSWORD)
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('retry in') })
    // The original path is the same route, so it shares the count.
    expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD, '203.0.113.1', '/login')).statusCode).toBe(429)
    // Another client is not affected.
    expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD, '203.0.113.2')).statusCode).toBe(200)
  })

  it('slows a password-guessing run against one username whichever addresses it comes from', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 3, USERS_FILE: usersFile } })
    for (let i = 0; i < 3; i++) {
      expect((await attempt(app, DEMO_USERNAME, `guess-${i}`, `198.51.100.${i}`)).statusCode).toBe(401)
    }
    const refused = await attempt(app, DEMO_USERNAME.toUpperCase(), 'guess-3', '198.51.100.9')
    expect(refused.statusCode).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' })
  })

  it('never blocks a user\'s login because of other users\' failures', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 3, USERS_FILE: usersFile } })
    for (let i = 0; i < 5; i++) await attempt(app, DEMO_USERNAME, `guess-${i}`, '198.51.100.7')
    expect((await attempt(app, OTHER_USER, OTHER_PASSWORD, '198.51.100.7')).statusCode).toBe(200)
  })

  it.each([
    ['50 addresses', (i: number) => `198.51.100.${i}`],
    ['one address', () => '198.51.100.1']
  ])('checks at most LOGIN_MAX_PER_USERNAME passwords of 50 concurrent wrong logins from %s', async (_case, addressOf) => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 5, USERS_FILE: usersFile } })
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(app, DEMO_USERNAME, `guess-${i}`, addressOf(i))))
    const statuses = answers.map((answer) => answer.statusCode)
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(45)
    // The right password is refused too until the window ends: the guesses used the username's budget.
    expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD, '192.0.2.1')).statusCode).toBe(429)
  })

  it('gives a successful login\'s attempt back, so it never uses up the failures allowed', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 2, USERS_FILE: usersFile } })
    expect((await attempt(app, DEMO_USERNAME, 'guess-1')).statusCode).toBe(401)
    for (let i = 0; i < 3; i++) expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD)).statusCode).toBe(200)
    expect((await attempt(app, DEMO_USERNAME, 'guess-2')).statusCode).toBe(401)
    expect((await attempt(app, DEMO_USERNAME, 'guess-3')).statusCode).toBe(429)
  })

  it('counts failures per username in windows of LOGIN_WINDOW_SECONDS on the service\'s clock', async () => {
    const { app, clock } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 1, LOGIN_WINDOW_SECONDS: 60, USERS_FILE: usersFile } })
    expect((await attempt(app, DEMO_USERNAME, 'guess-1')).statusCode).toBe(401)
    clock.advanceSeconds(45)
    const refused = await attempt(app, DEMO_USERNAME, 'guess-2')
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('15')
    clock.advanceSeconds(15)
    expect((await attempt(app, DEMO_USERNAME, 'guess-3')).statusCode).toBe(401)
  })

  it('does not count successful logins against the username', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_USERNAME: 2, USERS_FILE: usersFile } })
    for (let i = 0; i < 5; i++) expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD, `192.0.2.${i}`)).statusCode).toBe(200)
  })
})

describe('bounded password checks', () => {
  it('answers 503 with Retry-After at once when the queue of password checks is full', async () => {
    const { app } = await buildTestApp({ config: { HASH_CONCURRENCY: 1, HASH_QUEUE_LIMIT: 1 } })
    const answers = await Promise.all(Array.from({ length: 6 }, () => attempt(app, DEMO_USERNAME, DEMO_PASSWORD)))
    const statuses = answers.map((answer) => answer.statusCode)
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2)
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(1)
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true)
    const busy = answers.find((answer) => answer.statusCode === 503)!
    expect(busy.headers['retry-after']).toBe('1')
    expect(busy.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' })
    // Once the flood is over, logins are served again.
    expect((await attempt(app, DEMO_USERNAME, DEMO_PASSWORD)).statusCode).toBe(200)
  })

  it('keeps /business/data answering while logins are flooded', async () => {
    const { app } = await buildTestApp({ config: { HASH_CONCURRENCY: 2, HASH_QUEUE_LIMIT: 2 } })
    const token = await loginToken(app)
    const flood = Array.from({ length: 30 }, () => attempt(app, DEMO_USERNAME, 'wrong'))
    const reads = Array.from({ length: 30 }, () => app.inject({ method: 'GET', url: '/business/data', headers: { token } }))
    const [floodAnswers, readAnswers] = await Promise.all([Promise.all(flood), Promise.all(reads)])
    expect(readAnswers.every((answer) => answer.statusCode === 200)).toBe(true)
    expect(floodAnswers.every((answer) => answer.statusCode === 401 || answer.statusCode === 503)).toBe(true)
  })
})

describe('input limits', () => {
  it('refuses a login body over 4 KiB with 413 in the error shape', async () => {
    const { app } = await buildTestApp()
    const answer = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: DEMO_USERNAME, password: 'x'.repeat(5000) })
    })
    expect(answer.statusCode).toBe(413)
    expect(answer.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' })
  })

  it.each(['json', 'application/json, text/plain', ' ', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'answers 400, not 415, to a login whose Content-Type is %j', async (contentType) => {
      const { app } = await buildTestApp()
      const answer = await app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': contentType },
        payload: JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD })
      })
      expect(answer.statusCode).toBe(400)
      expect(answer.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'The body must be JSON (Content-Type: application/json)' })
    })

  it('refuses a header token of the wrong shape without asking the store', async () => {
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    const reinflate = vi.spyOn(store, 'reinflate')
    const { app } = await buildTestApp({ tokenStore: store })
    for (const token of ['short', 'x'.repeat(33), 'has spaces in it and is long enough!', '%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%']) {
      const answer = await app.inject({ method: 'GET', url: '/business/data', headers: { token } })
      expect(answer.statusCode).toBe(401)
      expect(answer.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    }
    expect(reinflate).not.toHaveBeenCalled()
    const token = await loginToken(app)
    expect((await app.inject({ method: 'GET', url: '/business/data', headers: { token } })).statusCode).toBe(200)
    expect(reinflate).toHaveBeenCalledTimes(1)
  })

  describe('oversized and escape-heavy header tokens', () => {
    /** Every route that takes a token, with FORWARD_AUTH on. */
    const TOKEN_ROUTES = [
      ['GET', '/business/data'], ['GET', '/data'], ['POST', '/auth/logout'], ['POST', '/auth/logout-all'],
      ['GET', '/auth/sessions'], ['GET', '/auth/verify']
    ] as const
    // JSON escapes a quote or a backslash in two bytes and a control character in six: the
    // business service's call to validateToken must stay inside the 16 KiB body limit.
    const TOKENS = {
      '9,000 quotes': '"'.repeat(9000),
      '9,000 backslashes': '\\'.repeat(9000),
      'control characters, one past the contract\'s longest token': '\u0001'.repeat(MAX_TOKEN_LENGTH + 1),
      'the contract\'s longest token, in quotes': '"'.repeat(MAX_TOKEN_LENGTH),
      'the contract\'s longest token, in control characters': '\u001f'.repeat(MAX_TOKEN_LENGTH)
    }

    it.each(Object.entries(TOKENS))('answer 401 invalid_token on every route, never a 5xx or an error line, to %s', async (_name, token) => {
      const { app, logs } = await buildTestApp({ config: { FORWARD_AUTH: true } })
      for (const [method, url] of TOKEN_ROUTES) {
        for (const headers of [{ token }, { authorization: `Bearer ${token}` }]) {
          const answer = await app.inject({ method, url, headers })
          expect(answer.statusCode, `${method} ${url} ${Object.keys(headers)[0]}`).toBe(401)
          expect(answer.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
          expect(answer.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' })
        }
      }
      expect(logs.filter((line) => (line.level as number) >= 50)).toEqual([])
    })
  })
})

describe('response headers', () => {
  it('forbids caching of every answer that carries a token or session data', async () => {
    const { app } = await buildTestApp()
    const login = await attempt(app, DEMO_USERNAME, DEMO_PASSWORD)
    const token = login.json<{ token: string }>().token
    const sessions = await app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })
    const data = await app.inject({ method: 'GET', url: '/business/data', headers: { token } })
    for (const answer of [login, sessions, data]) expect(answer.headers['cache-control']).toBe('no-store')
  })

  it('sends the protective headers of an API on every answer', async () => {
    const { app } = await buildTestApp()
    for (const answer of [
      await app.inject({ method: 'GET', url: '/health' }),
      await app.inject({ method: 'GET', url: '/business/data' }),
      await app.inject({ method: 'GET', url: '/nowhere' })
    ]) {
      expect(answer.headers).toMatchObject({
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer'
      })
    }
  })
})
