import { hash } from 'node:crypto'
import { nanoid } from 'nanoid'

/** 32 symbols of nanoid's 64-letter URL-safe alphabet: a routing tag, then 168 random bits. */
export const TOKEN_LENGTH = 32
/**
 * The head of a token that names its user's Redis Cluster slot (routingTagOf): 4 symbols,
 * 24 bits, so users spread evenly over all 16 384 slots.
 */
export const ROUTING_TAG_LENGTH = 4
const TOKEN_SHAPE = new RegExp(`^[A-Za-z0-9_-]{${TOKEN_LENGTH}}$`)

/**
 * The routing tag of a user: the first symbols of the SHA-256 of the username. Every key
 * of one user (sessions, index) carries it as a hash tag, so a user's keys share a slot
 * and an operation on them is one atomic script; the token carries it, so a validation
 * finds its slot from the token alone.
 */
export function routingTagOf (username: string): string {
  return hash('sha256', username, 'base64url').slice(0, ROUTING_TAG_LENGTH)
}

/**
 * A new opaque bearer token for `username`: its routing tag, then 28 random URL-safe
 * symbols (168 bits: unguessable; the tag adds nothing secret, and says nothing a
 * token's holder cannot learn from the service itself).
 */
export function generateToken (username: string): string {
  return routingTagOf(username) + nanoid(TOKEN_LENGTH - ROUTING_TAG_LENGTH)
}

/** Whether `value` could be a token at all; anything else is refused without a lookup. */
export function isTokenShaped (value: string): boolean {
  return TOKEN_SHAPE.test(value)
}

/**
 * What a store keeps of a token: its SHA-256 digest (base64url), followed by the token's
 * routing tag, which a store over Redis Cluster routes by (routingTagOfDigest). Stores never
 * hold the token itself, so a dump of the store lets no one in. A plain hash suffices (no
 * salt, no slow KDF) because the token holds 168 random bits, not a guessable password.
 */
export function digestToken (token: string): string {
  return hash('sha256', token, 'base64url') + token.slice(0, ROUTING_TAG_LENGTH)
}

/** The routing tag that a digest (digestToken) ends with. */
export function routingTagOfDigest (digest: string): string {
  return digest.slice(-ROUTING_TAG_LENGTH)
}

/**
 * The public handle of a session (`id` in /auth/sessions): a prefix of the digest, so
 * it needs no storage of its own and leads back to neither the token nor the digest.
 */
export function sessionIdOf (digest: string): string {
  return digest.slice(0, 16)
}
