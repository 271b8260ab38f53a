/**
 * The source of "now" for everything that expires. Injected, so tests drive expiry,
 * reinflation and cleanup by advancing a fake clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
