import { describe, expect, it } from 'vitest'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { digestToken, generateToken } from '../../src/tokens/token.js'
import { LAPTOP } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { CONTRACT_POLICY, describeTokenStore } from './token-store.contract.js'

describeTokenStore('MemoryTokenStore', async (policy) => new MemoryTokenStore(policy))

describe('MemoryTokenStore', () => {
  it('lets requests run while it removes a large number of expired tokens', async () => {
    const store = new MemoryTokenStore(CONTRACT_POLICY)
    const clock = new FakeClock()
    for (let i = 0; i < 25_000; i++) await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', LAPTOP, clock.now())
    clock.advanceSeconds(31)
    let ticks = 0
    const ticker = setInterval(() => { ticks += 1 }, 0)
    const removed = await store.removeExpired(clock.now())
    clearInterval(ticker)
    expect(removed).toBe(25_000)
    expect(ticks).toBeGreaterThan(0)
  })

  it('holds no token and no index entry after close', async () => {
    const store = new MemoryTokenStore(CONTRACT_POLICY)
    const clock = new FakeClock()
    await store.issue(digestToken(generateToken('ada@example.com')), 'ada@example.com', LAPTOP, clock.now())
    await store.close()
    expect(await store.size()).toBe(0)
    expect(await store.listForUser('ada@example.com', clock.now())).toEqual([])
  })
})
