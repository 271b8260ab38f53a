import { describe, expect, it, vi } from 'vitest'
import { policyFromSeconds } from '../../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../../src/tokens/memory-token-store.js'
import { removeExpiredTokens } from '../../../src/tokens/remove-expired-tokens.js'
import { digestToken, generateToken } from '../../../src/tokens/token.js'
import { LAPTOP } from '../../helpers/devices.js'
import { FakeClock } from '../../helpers/fake-clock.js'

/** The domain's Logger, recording its calls. */
function fakeLogger () {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn() }
}

describe('removeExpiredTokens', () => {
  async function storeWithTokens (clock: FakeClock) {
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', LAPTOP, clock.now())
    await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', LAPTOP, clock.now())
    clock.advanceSeconds(20)
    await store.issue(digestToken(generateToken('alan@example.com')), 'alan@example.com', LAPTOP, clock.now())
    return store
  }

  it('removes the expired tokens and logs the counts at info', async () => {
    const clock = new FakeClock()
    const store = await storeWithTokens(clock)
    clock.advanceSeconds(10) // the first two are 30 s old, the last 10 s
    const log = fakeLogger()

    const removed = await removeExpiredTokens(store, clock, log)

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

    const removed = await removeExpiredTokens(store, clock, log)

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
    expect(await removeExpiredTokens(store, clock, log)).toBe(0)
    expect(log.debug).toHaveBeenCalledWith({ removed: 0, remaining: 0 }, 'no expired tokens')
    expect(log.info).not.toHaveBeenCalled()
  })

  it('removes everything once everything has expired', async () => {
    const clock = new FakeClock()
    const store = await storeWithTokens(clock)
    clock.advanceSeconds(60)
    const log = fakeLogger()
    expect(await removeExpiredTokens(store, clock, log)).toBe(3)
    expect(log.info).toHaveBeenCalledWith({ removed: 3, remaining: 0 }, 'expired tokens removed')
  })

  it('never writes a token or a digest in its log arguments', async () => {
    const clock = new FakeClock()
    const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
    const token = generateToken('ada@example.com')
    await store.issue(digestToken(token), 'ada@example.com', LAPTOP, clock.now())
    clock.advanceSeconds(30)
    const log = fakeLogger()
    await removeExpiredTokens(store, clock, log)
    const written = JSON.stringify([...log.info.mock.calls, ...log.debug.mock.calls])
    expect(written).toContain('removed')
    expect(written).not.toContain(token)
    expect(written).not.toContain(digestToken(token))
  })
})
