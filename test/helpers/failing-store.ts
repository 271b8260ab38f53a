import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import type { TokenStore } from '../../src/tokens/token-store.js'

type Operation = Exclude<keyof TokenStore, 'close'>

/**
 * A memory store (30 s idle, one day at most) whose `operation` fails with `error` (by
 * default, as a store that cannot be reached) whenever `failing()` says so, and works
 * as usual otherwise.
 */
export function failingTokenStore (
  operation: Operation, error: Error = new StoreUnavailableError('down'), failing: () => boolean = () => true
): MemoryTokenStore {
  const store = new MemoryTokenStore(policyFromSeconds(30, 86400))
  const original = store[operation].bind(store) as (...args: unknown[]) => Promise<unknown>
  Object.assign(store, {
    [operation]: async (...args: unknown[]) => {
      if (failing()) throw error
      return original(...args)
    }
  })
  return store
}
