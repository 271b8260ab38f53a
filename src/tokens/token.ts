import { hash } from 'node:crypto'
import { nanoid } from 'nanoid'

/** 32 symbols of nanoid's 64-letter URL-safe alphabet: 192 bits of entropy. */
export const TOKEN_LENGTH = 32
const TOKEN_SHAPE = new RegExp(`^[A-Za-z0-9_-]{${TOKEN_LENGTH}}$`)

/** A new opaque bearer token: random, URL-safe, meaningless without the store. */
export function generateToken (): string {
  return nanoid(TOKEN_LENGTH)
}

/** Whether `value` could be a token at all; anything else is refused without a lookup. */
export function isTokenShaped (value: string): boolean {
  return TOKEN_SHAPE.test(value)
}

/**
 * The SHA-256 digest under which a token is stored (base64url). Stores never hold the
 * token itself, so a dump of the store lets no one in. A plain hash suffices (no salt,
 * no slow KDF) because the token is 192 random bits, not a guessable password.
 */
export function digestToken (token: string): string {
  return hash('sha256', token, 'base64url')
}

/**
 * The public handle of a session (`id` in /auth/sessions): a prefix of the digest, so
 * it needs no storage of its own and leads back to neither the token nor the digest.
 */
export function sessionIdOf (digest: string): string {
  return digest.slice(0, 16)
}
