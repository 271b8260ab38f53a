/**
 * Thrown by a store whose backing service (Redis, a database) cannot be reached.
 * The HTTP layer answers 503 for it: the request was fine, the service is not.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}
