/** A token as the store keeps it, with times in epoch milliseconds. */
export interface TokenRecord {
  /** Public handle of the session (see sessionIdOf), never the token or its digest. */
  id: string
  username: string
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  /** How many times a validation has reinflated the token. */
  refreshCount: number
}

/**
 * Where tokens live. Tokens are addressed by their digest (digestToken), never by the
 * token itself. Each method is one atomic domain operation, so an implementation over
 * a shared server (Redis) has no read-then-write race between instances. `now` comes
 * from the caller's clock on every call; the expiry rules (lifetime.ts) and the policy
 * given to the constructor are the implementation's business.
 */
export interface TokenStore {
  /** Stores a new token for `username`, created at `now`, and returns its record. */
  issue(digest: string, username: string, now: number): Promise<TokenRecord>

  /**
   * If the token is live at `now`: reinflates it (expiryAfterUse), counts the refresh,
   * records the use and returns the updated record. Otherwise null; an expired token
   * never validates, whether or not cleanup has removed it yet.
   */
  validate(digest: string, now: number): Promise<TokenRecord | null>

  /** Removes a token; returns its record when it was live at `now`, null when unknown or expired. */
  revoke(digest: string, now: number): Promise<TokenRecord | null>

  /** Removes every token of `username`; returns how many there were. */
  revokeAllForUser(username: string): Promise<number>

  /** The live tokens of `username` at `now`, oldest first. */
  listForUser(username: string, now: number): Promise<TokenRecord[]>

  /** Removes every token expired at `now`; returns how many it removed. */
  removeExpired(now: number): Promise<number>

  /** How many tokens are held, counting expired ones that cleanup has not removed yet. */
  size(): Promise<number>

  /** Resolves when the store can serve; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>

  /** Releases connections and timers. */
  close(): Promise<void>
}
