/** How many attempts one key may take per window. */
export interface AttemptPolicy {
  max: number
  windowMs: number
}

export interface AttemptTaken {
  /** Whether the attempt was granted; refused, it was not counted. */
  granted: boolean
  /** When the key's window ends and its attempts are all available again. */
  resetsAt: number
}

/**
 * A budget of attempts per key in fixed windows (the first attempt of a key starts its
 * window, as @fastify/rate-limit's stores do), taken BEFORE the work it guards, so that
 * however many requests arrive at once, at most `max` per window go through. Both
 * operations are atomic (one Lua script in Redis), so instances sharing a store share
 * the budget. `now` comes with every call, from the service's clock.
 * The contract suite (test/stores/attempt-counter.contract.ts) runs against each store.
 */
export interface AttemptCounter {
  /** Takes one attempt of `key`'s budget if any is left in its window; a refusal counts nothing. */
  take (key: string, now: number): Promise<AttemptTaken>
  /** Returns one attempt taken in `key`'s current window (the attempt turned out not to count); never below zero. */
  giveBack (key: string, now: number): Promise<void>
}
