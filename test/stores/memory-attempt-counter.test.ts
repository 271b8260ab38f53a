import { describe, expect, it } from 'vitest'
import { MemoryAttemptCounter } from '../../src/throttle/memory-attempt-counter.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { ATTEMPT_POLICY, describeAttemptCounter } from './attempt-counter.contract.js'

describeAttemptCounter('MemoryAttemptCounter', async (policy) => new MemoryAttemptCounter(policy, 1000))

describe('MemoryAttemptCounter', () => {
  it('keeps at most `capacity` keys, forgetting the oldest window first', async () => {
    const counter = new MemoryAttemptCounter(ATTEMPT_POLICY, 2)
    const clock = new FakeClock()
    for (let i = 0; i < 3; i++) await counter.take('ada', clock.now())
    await counter.take('grace', clock.now())
    expect((await counter.take('ada', clock.now())).granted).toBe(false)
    await counter.take('linus', clock.now())
    // ada's window was the oldest: it went to make room for linus, grace's stayed.
    expect((await counter.take('ada', clock.now())).granted).toBe(true)
    expect((await counter.take('grace', clock.now())).granted).toBe(true)
  })
})
