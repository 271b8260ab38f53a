import type { Device } from './device.js'

/**
 * What a token opens, as the store keeps it (README, "Glossary"), with times in epoch
 * milliseconds. Stores hold sessions by the token's digest, never by the token.
 */
export interface Session extends Device {
  /** Public handle of the session (see sessionIdOf), never the token or its digest. */
  id: string
  username: string
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  /** How many times a validation has reinflated the session. */
  refreshCount: number
}

/**
 * Where sessions live. Sessions are addressed by their token's digest (digestToken),
 * never by the token itself. Each method is one atomic domain operation, so an
 * implementation over a shared server (Redis) has no read-then-write race between
 * instances. `now` comes from the caller's clock on every call; the expiry rules
 * (lifetime.ts) and the policy given to the constructor are the implementation's business.
 */
export interface TokenStore {
  /** Opens a session for `username`, from `device`, created at `now`, and returns it. */
  issue(digest: string, username: string, device: Device, now: number): Promise<Session>

  /**
   * If the session is live at `now`: reinflates it (expiryAfterUse), counts the refresh,
   * records the use and returns the updated session. Otherwise null; an expired session
   * never comes back, whether or not cleanup has removed it yet. A write, not a check:
   * this is what a validation of the token does to its session.
   */
  reinflate(digest: string, now: number): Promise<Session | null>

  /** Removes a session; returns it when it was live at `now`, null when unknown or expired. */
  revoke(digest: string, now: number): Promise<Session | null>

  /**
   * Ends the session of `username` whose public id is `sessionId`, if it is live at `now`,
   * and returns true; false for an id that is unknown, expired or another user's, alike
   * (DELETE /auth/sessions/{id} answers each with the same 404, so that no one learns
   * which ids exist). Its token is dead at once.
   */
  revokeSession(username: string, sessionId: string, now: number): Promise<boolean>

  /** Removes every session of `username`; returns how many there were. */
  revokeAllForUser(username: string): Promise<number>

  /** The live sessions of `username` at `now`, oldest first. */
  listForUser(username: string, now: number): Promise<Session[]>

  /** Removes every session expired at `now`; returns how many it removed. */
  removeExpired(now: number): Promise<number>

  /** How many sessions are held, counting expired ones that cleanup has not removed yet. */
  size(): Promise<number>

  /** Resolves when the store can serve; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>

  /** Releases connections and timers. */
  close(): Promise<void>
}
