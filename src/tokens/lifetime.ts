/**
 * The rules of a token's life, in one place: every store applies these (the Redis
 * store mirrors them in its Lua script).
 */
export interface TokenLifetimePolicy {
  /** Idle lifetime: how long a token lives after its creation or its last validation. */
  idleTtlMs: number
  /** Absolute lifetime: no validation carries a token past createdAt + this. */
  maxLifetimeMs: number
}

export function policyFromSeconds (idleTtlSeconds: number, maxLifetimeSeconds: number): TokenLifetimePolicy {
  return { idleTtlMs: idleTtlSeconds * 1000, maxLifetimeMs: maxLifetimeSeconds * 1000 }
}

/**
 * When a token used (or created) at `now` expires: the idle lifetime starts again
 * ("reinflation"), capped by the absolute lifetime counted from creation.
 */
export function expiryAfterUse (policy: TokenLifetimePolicy, createdAt: number, now: number): number {
  return Math.min(now + policy.idleTtlMs, createdAt + policy.maxLifetimeMs)
}

/** A token is dead from its expiry moment on. */
export function isExpired (expiresAt: number, now: number): boolean {
  return now >= expiresAt
}

/** `expiresIn`: the whole seconds left before expiry, as clients see them. */
export function expiresInSeconds (expiresAt: number, now: number): number {
  return Math.max(0, Math.ceil((expiresAt - now) / 1000))
}
