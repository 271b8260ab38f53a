/** Thrown when a ConcurrencyLimiter's queue is full: the caller should answer 503 at once. */
export class LimiterFullError extends Error {
  override name = 'LimiterFullError'
}

/**
 * Runs at most `concurrency` tasks at once and lets at most `queueLimit` more wait;
 * beyond that, `run` fails at once with LimiterFullError. Password hashing uses it: the
 * work goes to libuv's thread pool, and an unbounded queue there would make every
 * client, and everything else using the pool, wait longer and longer under a flood.
 */
export class ConcurrencyLimiter {
  readonly #concurrency: number
  readonly #queueLimit: number
  readonly #waiting: Array<() => void> = []
  #running = 0

  constructor (concurrency: number, queueLimit: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer')
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError('queueLimit must be a non-negative integer')
    this.#concurrency = concurrency
    this.#queueLimit = queueLimit
  }

  /** Tasks running now. */
  get running (): number {
    return this.#running
  }

  /** Tasks waiting for a slot. */
  get waiting (): number {
    return this.#waiting.length
  }

  async run<T> (task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#queueLimit) throw new LimiterFullError('too many tasks waiting')
      // The slot is handed over by the task that finishes, so #running stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    } else {
      this.#running += 1
    }
    try {
      return await task()
    } finally {
      const next = this.#waiting.shift()
      if (next === undefined) this.#running -= 1
      else next()
    }
  }
}
