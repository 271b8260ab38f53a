import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitOptions {
  timeoutMs?: number
  /** Pause between two checks. */
  intervalMs?: number
  /** Named in the error when the time is up. */
  what?: string
}

/**
 * Checks `condition` until it holds, for what happens on its own time (a process, a
 * reconnection, a notification); fails after `timeoutMs`. Never for expiry: that is the
 * fake clock's.
 */
export async function waitFor (
  condition: () => boolean | Promise<boolean>, { timeoutMs = 5000, intervalMs = 50, what = 'the condition' }: WaitOptions = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(intervalMs)
  }
}
