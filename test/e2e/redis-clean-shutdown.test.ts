import { describe, expect, it } from 'vitest'
import { buildTestApp, loginToken } from '../helpers/build-app.js'
import { skipWithoutRedis, TEST_REDIS_URL, testRedisClient, uniquePrefix } from '../helpers/redis.js'
import { waitFor } from '../helpers/wait-for.js'

describe.skipIf(skipWithoutRedis('the Redis clean-shutdown test'))('a shutdown with TOKEN_STORE=redis', () => {
  it('closes its Redis connection without warning of a lost connection', async () => {
    const keyPrefix = uniquePrefix()
    testRedisClient(keyPrefix) // deletes the run's keys at the end
    const { app, logs } = await buildTestApp({ config: { TOKEN_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix } })
    // One client: the auth module's, which the token store and the login throttle share.
    await waitFor(() => logs.filter((line) => line.msg === 'connected to Redis').length === 1, { timeoutMs: 10_000 })
    await loginToken(app)

    await app.close()
    // The socket closes after close() resolves: wait for it to end.
    await waitFor(() => logs.filter((line) => line.msg === 'disconnected from Redis').length === 1, { timeoutMs: 10_000 })

    expect(logs.filter((line) => (line.level as number) >= 40).map((line) => line.msg)).toEqual([])
  })
})
