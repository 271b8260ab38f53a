import { describe, expect, it } from 'vitest'
import { buildTestApp, loginToken } from '../helpers/build-app.js'
import { TEST_REDIS_URL, testRedisClient, uniquePrefix } from '../helpers/redis.js'

async function until (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('a shutdown with TOKEN_STORE=redis', () => {
  it('closes its Redis connections without warning of a lost connection', async () => {
    const keyPrefix = uniquePrefix()
    testRedisClient(keyPrefix) // deletes the run's keys at the end
    const { app, logs } = await buildTestApp({ config: { TOKEN_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix } })
    // Two clients: the token store's and the login throttle's.
    await until(() => logs.filter((line) => line.msg === 'connected to Redis').length === 2)
    await loginToken(app)

    await app.close()
    // The sockets close after close() resolves: wait for both to end.
    await until(() => logs.filter((line) => line.msg === 'disconnected from Redis').length === 2)

    expect(logs.filter((line) => (line.level as number) >= 40).map((line) => line.msg)).toEqual([])
  })
})
