import type { AttemptCounter, AttemptPolicy, AttemptTaken } from './attempt-counter.js'

interface Window {
  taken: number
  endsAt: number
}

/**
 * Attempts counted in this process. At most `capacity` keys are kept: a Map keeps keys in
 * the order their windows started, so when it is full the oldest window is forgotten first
 * (as @fastify/rate-limit's LRU does), and memory stays bounded whatever keys clients send.
 */
export class MemoryAttemptCounter implements AttemptCounter {
  readonly #policy: AttemptPolicy
  readonly #capacity: number
  readonly #windows = new Map<string, Window>()

  constructor (policy: AttemptPolicy, capacity: number) {
    this.#policy = policy
    this.#capacity = capacity
  }

  async take (key: string, now: number): Promise<AttemptTaken> {
    const window = this.#current(key, now) ?? this.#start(key, now)
    if (window.taken >= this.#policy.max) return { granted: false, resetsAt: window.endsAt }
    window.taken += 1
    return { granted: true, resetsAt: window.endsAt }
  }

  async giveBack (key: string, now: number): Promise<void> {
    const window = this.#current(key, now)
    if (window !== undefined && window.taken > 0) window.taken -= 1
  }

  #current (key: string, now: number): Window | undefined {
    const window = this.#windows.get(key)
    return window !== undefined && now < window.endsAt ? window : undefined
  }

  #start (key: string, now: number): Window {
    // Deleted first, so that the key moves to the end of the Map's order.
    this.#windows.delete(key)
    if (this.#windows.size >= this.#capacity) this.#windows.delete(this.#windows.keys().next().value!)
    const window = { taken: 0, endsAt: now + this.#policy.windowMs }
    this.#windows.set(key, window)
    return window
  }
}
