import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'

/**
 * argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about
 * 20–40 ms per verification on one core here, slow for a guesser, cheap enough that a
 * 2-core machine serves dozens of logins a second. See README "Choices".
 */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1
} as const

/** The argon2 version that `argon2.hash` writes (1.3). */
const ARGON2_VERSION = 0x13

/** An argon2 hash in PHC string form, as `argon2.hash` writes it. */
export const ARGON2_PHC_PATTERN = '^\\$argon2(id|i|d)\\$v=\\d+\\$[a-z]=\\d+(,[a-z]=\\d+)*\\$[A-Za-z0-9+/]+\\$[A-Za-z0-9+/]+$'

/** The longest password accepted anywhere (login, the users command line): hashing stays bounded. */
export const MAX_PASSWORD_LENGTH = 1024

export function hashPassword (password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS)
}

/** True when `password` matches `hash`; false for a mismatch and for an unreadable hash. */
export async function verifyPassword (hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

/**
 * True when `hash` was made with weaker parameters than ARGON2_OPTIONS: another argon2
 * variant than argon2id, an older version, less memory or fewer passes. A successful
 * login then hashes the password again. A hash made stronger than the current setting
 * is left alone: replacing it would weaken it. False for an unreadable hash.
 */
export function needsRehash (hash: string): boolean {
  const parsed = /^\$(argon2(?:id|i|d))\$(?:v=(\d+)\$)?([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash)
  if (parsed === null) return false
  try {
    if (!argon2.needsRehash(hash, ARGON2_OPTIONS)) return parsed[1] !== 'argon2id'
  } catch {
    return false
  }
  const params = new Map(parsed[3]!.split(',').map((pair) => {
    const [name, value] = pair.split('=')
    return [name, Number(value)] as const
  }))
  return parsed[1] !== 'argon2id' ||
    Number(parsed[2] ?? 0x10) < ARGON2_VERSION ||
    (params.get('m') ?? 0) < ARGON2_OPTIONS.memoryCost ||
    (params.get('t') ?? 0) < ARGON2_OPTIONS.timeCost
}

/**
 * A hash of a random password nobody knows. Verifying against it when a username is
 * unknown makes that answer cost what a wrong password costs, so timing does not tell
 * which usernames exist.
 */
export function createDummyHash (): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64url'))
}
