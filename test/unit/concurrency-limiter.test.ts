import { describe, expect, it } from 'vitest'
import { ConcurrencyLimiter, LimiterFullError } from '../../src/concurrency-limiter.js'

/** A task that finishes when the test says so. */
function deferredTask () {
  let finish!: () => void
  const done = new Promise<void>((resolve) => { finish = resolve })
  let started = false
  return { task: async () => { started = true; await done; return 'done' }, finish: () => finish(), started: () => started }
}

describe('ConcurrencyLimiter', () => {
  it('runs up to `concurrency` tasks at once and queues the rest in order', async () => {
    const limiter = new ConcurrencyLimiter(2, 5)
    const tasks = [deferredTask(), deferredTask(), deferredTask()]
    const results = tasks.map(({ task }) => limiter.run(task))
    await Promise.resolve()
    expect(tasks.map(({ started }) => started())).toEqual([true, true, false])
    expect([limiter.running, limiter.waiting]).toEqual([2, 1])

    tasks[0]!.finish()
    await results[0]
    await new Promise((resolve) => setImmediate(resolve))
    expect(tasks[2]!.started()).toBe(true)
    expect([limiter.running, limiter.waiting]).toEqual([2, 0])

    tasks[1]!.finish()
    tasks[2]!.finish()
    expect(await Promise.all(results)).toEqual(['done', 'done', 'done'])
    expect([limiter.running, limiter.waiting]).toEqual([0, 0])
  })

  it('refuses at once with LimiterFullError when the queue is full', async () => {
    const limiter = new ConcurrencyLimiter(1, 1)
    const first = deferredTask()
    const second = deferredTask()
    const running = limiter.run(first.task)
    const queued = limiter.run(second.task)
    await expect(limiter.run(async () => 'never')).rejects.toBeInstanceOf(LimiterFullError)
    first.finish()
    second.finish()
    await Promise.all([running, queued])
    await expect(limiter.run(async () => 'again')).resolves.toBe('again')
  })

  it('frees the slot of a task that fails', async () => {
    const limiter = new ConcurrencyLimiter(1, 0)
    await expect(limiter.run(async () => { throw new Error('boom') })).rejects.toThrow('boom')
    expect(limiter.running).toBe(0)
    await expect(limiter.run(async () => 'ok')).resolves.toBe('ok')
  })

  it('rejects a nonsensical size', () => {
    expect(() => new ConcurrencyLimiter(0, 1)).toThrow(RangeError)
    expect(() => new ConcurrencyLimiter(1, -1)).toThrow(RangeError)
  })
})
