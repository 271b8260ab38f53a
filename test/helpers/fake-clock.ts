import type { Clock } from '../../src/clock.js'

/** A clock that moves only when a test says so. */
export class FakeClock implements Clock {
  #now: number

  constructor (start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start
  }

  now (): number {
    return this.#now
  }

  advance (ms: number): void {
    this.#now += ms
  }

  advanceSeconds (seconds: number): void {
    this.advance(seconds * 1000)
  }
}
