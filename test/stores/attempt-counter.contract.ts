import { beforeEach, describe, expect, it } from 'vitest'
import type { AttemptCounter, AttemptPolicy } from '../../src/throttle/attempt-counter.js'
import { FakeClock } from '../helpers/fake-clock.js'

/** Three attempts per 60 s window. */
export const ATTEMPT_POLICY: AttemptPolicy = { max: 3, windowMs: 60_000 }

/**
 * The behaviour every AttemptCounter must have, run against each implementation.
 * `makeCounter` returns a fresh, empty counter for the policy.
 */
export function describeAttemptCounter (name: string, makeCounter: (policy: AttemptPolicy) => Promise<AttemptCounter>): void {
  describe(`${name} (AttemptCounter contract)`, () => {
    let counter: AttemptCounter
    let clock: FakeClock

    beforeEach(async () => {
      counter = await makeCounter(ATTEMPT_POLICY)
      clock = new FakeClock()
    })

    async function takeTimes (key: string, times: number) {
      const taken = []
      for (let i = 0; i < times; i++) taken.push(await counter.take(key, clock.now()))
      return taken.map((attempt) => attempt.granted)
    }

    it('grants max attempts per window, then refuses, with the end of the window the first attempt started', async () => {
      const start = clock.now()
      expect(await counter.take('ada', clock.now())).toEqual({ granted: true, resetsAt: start + 60_000 })
      clock.advanceSeconds(10)
      expect(await counter.take('ada', clock.now())).toEqual({ granted: true, resetsAt: start + 60_000 })
      expect(await counter.take('ada', clock.now())).toEqual({ granted: true, resetsAt: start + 60_000 })
      expect(await counter.take('ada', clock.now())).toEqual({ granted: false, resetsAt: start + 60_000 })
    })

    it('counts each key on its own', async () => {
      expect(await takeTimes('ada', 4)).toEqual([true, true, true, false])
      expect(await takeTimes('grace', 3)).toEqual([true, true, true])
    })

    it('grants exactly max of many attempts taken at once', async () => {
      const taken = await Promise.all(Array.from({ length: 50 }, () => counter.take('ada', clock.now())))
      expect(taken.filter((attempt) => attempt.granted)).toHaveLength(3)
    })

    it('starts a new window once the old one has ended, and a refusal does not prolong it', async () => {
      expect(await takeTimes('ada', 4)).toEqual([true, true, true, false])
      clock.advance(59_999)
      expect((await counter.take('ada', clock.now())).granted).toBe(false)
      clock.advance(1)
      expect(await counter.take('ada', clock.now())).toEqual({ granted: true, resetsAt: clock.now() + 60_000 })
      expect(await takeTimes('ada', 3)).toEqual([true, true, false])
    })

    it('takes back an attempt given back, so that only the attempts kept count', async () => {
      expect(await takeTimes('ada', 3)).toEqual([true, true, true])
      await counter.giveBack('ada', clock.now())
      expect(await takeTimes('ada', 2)).toEqual([true, false])
    })

    it('never goes below zero, whatever is given back', async () => {
      for (let i = 0; i < 5; i++) await counter.giveBack('ada', clock.now())
      expect(await takeTimes('ada', 4)).toEqual([true, true, true, false])
    })

    it('does not carry an attempt given back after its window into the next one', async () => {
      expect(await takeTimes('ada', 3)).toEqual([true, true, true])
      clock.advanceSeconds(60)
      await counter.giveBack('ada', clock.now())
      expect(await takeTimes('ada', 4)).toEqual([true, true, true, false])
    })

    it('leaves nothing counted after concurrent attempts that are each given back', async () => {
      // Each "login" takes an attempt and gives it back, as a success does: none is left counted.
      await Promise.all(Array.from({ length: 20 }, async () => {
        if ((await counter.take('ada', clock.now())).granted) await counter.giveBack('ada', clock.now())
      }))
      expect(await takeTimes('ada', 4)).toEqual([true, true, true, false])
    })
  })
}
