import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { httpClient, listenOnFreePort } from '../helpers/http.js'

/**
 * Every path of a token's life, over real HTTP on a real port. Time is the fake clock's,
 * so idle expiry and the absolute cap take no waiting, and the scheduled cleanup job
 * runs when the test ticks its interval.
 */
async function startService (config: Record<string, string | number> = {}) {
  const service = await buildTestApp({ config })
  const client = httpClient(await listenOnFreePort(service.app))
  return Object.assign(service, { client })
}

async function loginDemo (client: ReturnType<typeof httpClient>): Promise<string> {
  const response = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
  expect(response.status).toBe(200)
  return response.body.token
}

describe('a token\'s life over HTTP', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is issued, reinflated by each use, then expires after an idle lifetime', async () => {
    const { client, clock } = await startService({ TOKEN_TTL_SECONDS: 30 })

    const login = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login).toMatchObject({ status: 200, body: { tokenType: 'Bearer', expiresIn: 30 } })
    const token: string = login.body.token

    for (let use = 1; use <= 3; use++) {
      clock.advanceSeconds(25)
      const data = await client.data(token)
      expect(data.status).toBe(200)
      expect(data.body.data).toMatchObject({ user: DEMO_USERNAME, tokenExpiresIn: 30 })
    }
    const [session] = (await client.sessions(token)).body.sessions
    expect(session.refreshCount).toBe(4)

    clock.advanceSeconds(30)
    const expired = await client.data(token)
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
  })

  it('stays alive while used within its idle lifetime, and dies at the absolute cap', async () => {
    const { client, clock } = await startService({ TOKEN_TTL_SECONDS: 30, TOKEN_MAX_LIFETIME_SECONDS: 100 })
    const token = await loginDemo(client)

    clock.advanceSeconds(25)
    expect((await client.data(token)).body.data.tokenExpiresIn).toBe(30)
    clock.advanceSeconds(25)
    expect((await client.data(token)).body.data.tokenExpiresIn).toBe(30)
    clock.advanceSeconds(25)
    // 75 s old: the cap (100 s) is nearer than a fresh idle lifetime.
    expect((await client.data(token)).body.data.tokenExpiresIn).toBe(25)
    clock.advanceSeconds(24)
    expect((await client.data(token)).status).toBe(200)
    clock.advanceSeconds(1)
    expect((await client.data(token)).status).toBe(401)
  })

  it('is revoked by logout, and the other tokens of the user live on', async () => {
    const { client } = await startService()
    const first = await loginDemo(client)
    const second = await loginDemo(client)

    expect((await client.logout(first)).status).toBe(204)
    expect((await client.data(first)).status).toBe(401)
    expect((await client.logout(first)).status).toBe(401)
    expect((await client.data(second)).status).toBe(200)
  })

  it('is revoked with every token of the user by logout-all', async () => {
    const { client } = await startService()
    const tokens = [await loginDemo(client), await loginDemo(client), await loginDemo(client)]
    expect((await client.sessions(tokens[0]!)).body.sessions).toHaveLength(3)

    expect((await client.logoutAll(tokens[1]!)).status).toBe(204)
    for (const token of tokens) expect((await client.data(token)).status).toBe(401)
  })

  it('is removed from the store by the scheduled cleanup job', async () => {
    // Before the app: the job arms its interval at start. Only intervals are faked, so the
    // sockets' timers and @fastify/under-pressure's sampler keep real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const service = await startService({ TOKEN_TTL_SECONDS: 30, CLEANUP_INTERVAL_SECONDS: 1 })
    const expiring = await loginDemo(service.client)
    service.clock.advanceSeconds(20)
    const live = await loginDemo(service.client)
    service.clock.advanceSeconds(15)

    await vi.advanceTimersByTimeAsync(1000)
    const removal = service.logs.find((line) => line.msg === 'expired tokens removed')
    expect(removal).toMatchObject({ removed: 1, remaining: 1 })
    expect((await service.client.data(expiring)).status).toBe(401)
    expect((await service.client.data(live)).status).toBe(200)
  })

  it('answers the original clients on the original paths with the token header', async () => {
    const { client } = await startService()
    const login = await client.call('POST', '/login', { body: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
    expect(login.status).toBe(200)
    const data = await client.call('GET', '/data', { headers: { token: login.body.token } })
    expect(data).toMatchObject({ status: 200, body: { data: { user: DEMO_USERNAME } } })
  })
})
