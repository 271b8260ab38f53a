import { describe, expect, it } from 'vitest'
import { freePort } from '../../bench/free-port.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, type TestApp } from '../helpers/build-app.js'
import { httpClient, listenOnFreePort } from '../helpers/http.js'
import { OwnRedisServer } from '../helpers/redis-server.js'
import { skipWithout } from '../helpers/system-binaries.js'
import { waitFor } from '../helpers/wait-for.js'

/** Redis reconnects with a backoff of up to 5 s: give it three rounds. */
function until (condition: () => Promise<boolean>): Promise<void> {
  return waitFor(condition, { timeoutMs: 15_000, intervalMs: 100 })
}

// Each test runs a redis-server of its own, to stop and start it.
describe.skipIf(skipWithout('redis-server', 'the Redis outage tests'))('the service with a Redis that goes away and comes back', () => {
  it('answers 503 (never 500, never a hang) while Redis is down, and recovers without a restart', async () => {
    const redis = new OwnRedisServer(await freePort())
    await redis.start()
    const service = await buildTestApp({ config: { TOKEN_STORE: 'redis', REDIS_URL: redis.url } })
    const client = httpClient(await listenOnFreePort(service.app))
    await until(async () => (await client.call('GET', '/health/ready')).status === 200)
    const token = (await client.login(DEMO_USERNAME, DEMO_PASSWORD)).body.token
    expect((await client.data(token)).status).toBe(200)

    await redis.stop()
    const started = Date.now()
    const data = await client.data(token)
    expect(data.status).toBe(503)
    expect(data.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' })
    expect((await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(503)
    expect((await client.call('POST', '/auth/logout', { token })).status).toBe(503)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await client.call('GET', '/health/ready')).toMatchObject({ status: 503, body: { status: 'unavailable', unavailable: ['token-store'] } })
    expect((await client.call('GET', '/health')).status).toBe(200)
    await until(async () => service.logs.some((line) => line.msg === 'Redis connection lost; reconnecting'))

    await redis.start()
    await until(async () => (await client.call('GET', '/health/ready')).status === 200)
    // This Redis keeps nothing on disk: its restart forgot the token, so the client logs in again.
    expect((await client.data(token)).status).toBe(401)
    const fresh = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(fresh.status).toBe(200)
    expect((await client.data(fresh.body.token)).status).toBe(200)
  })

  it('starts while Redis is down, retrying, and serves once it is up', async () => {
    const redis = new OwnRedisServer(await freePort())
    const service = await buildTestApp({ config: { TOKEN_STORE: 'redis', REDIS_URL: redis.url } })
    const client = httpClient(await listenOnFreePort(service.app))
    expect((await client.call('GET', '/health/ready')).status).toBe(503)
    expect((await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(503)
    await until(async () => service.logs.some((line) => line.msg === 'Redis unreachable; retrying'))

    await redis.start()
    await until(async () => (await client.call('GET', '/health/ready')).status === 200)
    const login = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login.status).toBe(200)
    expect((await client.data(login.body.token)).status).toBe(200)
  })
})

describe('login with the throttle\'s Redis unable to answer', () => {
  /** A login, timed. */
  async function timedLogin (client: ReturnType<typeof httpClient>, password: string) {
    const started = Date.now()
    const answer = await client.login(DEMO_USERNAME, password)
    return { ...answer, ms: Date.now() - started }
  }

  /** Right and wrong passwords at once: the same 503 with Retry-After within 3 s, refused by the throttle before any password check. */
  async function expectSame503 (service: TestApp, client: ReturnType<typeof httpClient>) {
    const linesBefore = service.logs.length
    const [right, wrong] = await Promise.all([timedLogin(client, DEMO_PASSWORD), timedLogin(client, 'a wrong guess')])
    for (const answer of [right, wrong]) {
      expect(answer.status).toBe(503)
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(answer.ms).toBeLessThan(3000)
    }
    expect(wrong.body).toEqual(right.body)
    expect(wrong.headers.get('retry-after')).toBe(right.headers.get('retry-after'))
    const lines = service.logs.slice(linesBefore)
    const causes = lines.filter((line) => line.msg === 'store unavailable').map((line) => (line.err as { message: string }).message)
    expect(causes).toEqual([expect.stringMatching(/^Login throttle: /), expect.stringMatching(/^Login throttle: /)])
    expect(lines.filter((line) => line.msg === 'login failed' || line.msg === 'login succeeded')).toEqual([])
  }

  async function startService () {
    const redis = new OwnRedisServer(await freePort())
    await redis.start()
    const service = await buildTestApp({ config: { TOKEN_STORE: 'redis', REDIS_URL: redis.url } })
    const client = httpClient(await listenOnFreePort(service.app))
    await until(async () => (await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status === 200)
    return { redis, service, client }
  }

  it('answers 503 before any password check while Redis is down, whatever the password, and recovers on its own', async () => {
    const { redis, service, client } = await startService()
    await redis.stop()
    await expectSame503(service, client)

    await redis.start()
    await until(async () => (await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status === 200)
    expect((await client.login(DEMO_USERNAME, 'a wrong guess')).status).toBe(401)
  })

  it('answers 503 within 3 s while Redis hangs (SIGSTOP), whatever the password, and recovers when it runs again', async () => {
    const { redis, service, client } = await startService()
    redis.freeze()
    await expectSame503(service, client)

    redis.thaw()
    await until(async () => (await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status === 200)
    expect((await client.login(DEMO_USERNAME, 'a wrong guess')).status).toBe(401)
  })
})
