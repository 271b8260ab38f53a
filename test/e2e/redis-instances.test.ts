import { describe, expect, it } from 'vitest'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { httpClient, listenOnFreePort, requestFrom } from '../helpers/http.js'
import { keysUnder, skipWithoutRedis, TEST_REDIS_URL, testRedisClient, uniquePrefix } from '../helpers/redis.js'

/** Two instances of the service, as behind a load balancer: one Redis, one clock. */
async function startTwoInstances (settings: Record<string, number> = {}) {
  const keyPrefix = uniquePrefix()
  const redis = testRedisClient(keyPrefix) // deletes the run's keys when the test ends
  const clock = new FakeClock()
  const config = { TOKEN_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix, TOKEN_TTL_SECONDS: 30, ...settings }
  const a = await buildTestApp({ config, clock })
  const b = await buildTestApp({ config, clock })
  const urls = [await listenOnFreePort(a.app), await listenOnFreePort(b.app)] as const
  return { clock, urls, redis, keyPrefix, a: httpClient(urls[0]), b: httpClient(urls[1]) }
}

describe.skipIf(skipWithoutRedis('the two-instance tests'))('two instances sharing one Redis', () => {
  it('accept on one instance a token issued by the other, and share its reinflation', async () => {
    const { clock, a, b } = await startTwoInstances()
    const login = await a.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login.status).toBe(200)
    const token: string = login.body.token

    clock.advanceSeconds(20)
    const data = await b.data(token)
    expect(data).toMatchObject({ status: 200, body: { data: { user: DEMO_USERNAME, tokenExpiresIn: 30 } } })

    const [session] = (await a.sessions(token)).body.sessions
    expect(session).toMatchObject({ refreshCount: 2, current: true })
    expect(Date.parse(session.expiresAt)).toBe(clock.now() + 30_000)

    clock.advanceSeconds(29)
    expect((await a.data(token)).status).toBe(200)
    clock.advanceSeconds(30)
    expect((await b.data(token)).status).toBe(401)
  })

  it('see a logout on one instance everywhere', async () => {
    const { a, b } = await startTwoInstances()
    const token = (await a.login(DEMO_USERNAME, DEMO_PASSWORD)).body.token
    expect((await b.data(token)).status).toBe(200)
    expect((await a.logout(token)).status).toBe(204)
    expect((await b.data(token)).status).toBe(401)
  })

  it('see a session ended on one instance, by its id from the list, dead on both at once', async () => {
    const { a, b } = await startTwoInstances()
    const phone = (await a.call('POST', '/auth/login', {
      body: { username: DEMO_USERNAME, password: DEMO_PASSWORD }, headers: { 'user-agent': 'phone app/1.0' }
    })).body.token
    const laptop = (await b.login(DEMO_USERNAME, DEMO_PASSWORD)).body.token
    expect((await b.data(phone)).status).toBe(200)

    const listed: Array<{ id: string, userAgent: string | null, address: string }> = (await b.sessions(laptop)).body.sessions
    const phoneSession = listed.find((session) => session.userAgent === 'phone app/1.0')
    expect(phoneSession).toMatchObject({ address: '127.0.0.1' })
    expect((await b.endSession(laptop, phoneSession!.id)).status).toBe(204)
    for (const client of [a, b]) expect((await client.data(phone)).status).toBe(401)
    expect((await a.data(laptop)).status).toBe(200)
    expect((await a.endSession(laptop, phoneSession!.id)).status).toBe(404)
  })

  it('see logout-all on one instance kill the user\'s tokens on both', async () => {
    const { a, b } = await startTwoInstances()
    const fromA = (await a.login(DEMO_USERNAME, DEMO_PASSWORD)).body.token
    const fromB = (await b.login(DEMO_USERNAME, DEMO_PASSWORD)).body.token
    expect((await a.sessions(fromA)).body.sessions).toHaveLength(2)

    expect((await b.logoutAll(fromB)).status).toBe(204)
    for (const client of [a, b]) {
      expect((await client.data(fromA)).status).toBe(401)
      expect((await client.data(fromB)).status).toBe(401)
    }
  })

  it('share the login throttling counts, so limits hold across instances', async () => {
    const { a, b } = await startTwoInstances({ LOGIN_MAX_PER_IP: 3, LOGIN_MAX_PER_USERNAME: 2 })
    expect((await a.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(200)
    expect((await b.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(200)
    expect((await a.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(200)
    const refused = await b.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it.each([
    ['50 addresses', (i: number) => `127.0.0.${i + 2}`],
    ['one address', () => '127.0.0.1']
  ])('check at most LOGIN_MAX_PER_USERNAME passwords of 50 concurrent wrong logins spread over both, from %s', async (_case, addressOf) => {
    const { urls } = await startTwoInstances({ LOGIN_MAX_PER_USERNAME: 5 })
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => requestFrom(addressOf(i), `${urls[i % 2]}/auth/login`, {
      method: 'POST',
      body: { username: DEMO_USERNAME, password: `guess-${i}` }
    })))
    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(45)
  })

  it('keep the throttle counts under keys named for what they count', async () => {
    const { a, redis, keyPrefix } = await startTwoInstances()
    expect((await a.login(DEMO_USERNAME, 'guess-1')).status).toBe(401)
    const throttleKeys = (await keysUnder(redis, `${keyPrefix}login-throttle:`)).sort()
    expect(throttleKeys).toEqual([
      `${keyPrefix}login-throttle:address:127.0.0.1`,
      `${keyPrefix}login-throttle:username:${DEMO_USERNAME}`
    ])
  })

  it('share the failed-login count of a username', async () => {
    const { a, b } = await startTwoInstances({ LOGIN_MAX_PER_USERNAME: 2 })
    expect((await a.login(DEMO_USERNAME, 'guess-1')).status).toBe(401)
    expect((await b.login(DEMO_USERNAME, 'guess-2')).status).toBe(401)
    expect((await a.login(DEMO_USERNAME, 'guess-3')).status).toBe(429)
  })
})
