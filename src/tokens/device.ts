/**
 * Where a session was opened from, as its user sees it in GET /auth/sessions to tell
 * sessions apart (README, "Glossary": device). Recorded at login, never changed after.
 */
export interface Device {
  /** The User-Agent header of the login, cut to MAX_USER_AGENT_LENGTH; null when the login sent none. */
  userAgent: string | null
  /** The client's address at login, as the service determined it (TRUST_PROXY), cut to MAX_ADDRESS_LENGTH. */
  address: string
}

/** Longer user agents are cut: real ones are a few hundred characters at most, and a client chooses its own. */
export const MAX_USER_AGENT_LENGTH = 512

/**
 * An IPv6 address is at most 45 characters (with an IPv4 tail), a zone more. With a hop
 * count in TRUST_PROXY the address is whatever X-Forwarded-For says, so it is cut too.
 */
export const MAX_ADDRESS_LENGTH = 64

/** The device of a login from its User-Agent header (absent or empty: null) and its client address. */
export function deviceOf (userAgent: string | undefined, address: string): Device {
  return {
    userAgent: userAgent === undefined || userAgent === '' ? null : ownCopy(userAgent.slice(0, MAX_USER_AGENT_LENGTH)),
    address: ownCopy(address.slice(0, MAX_ADDRESS_LENGTH))
  }
}

/**
 * The same characters in a string of their own. A slice of a longer string (a cut
 * User-Agent, an address that proxy-addr took out of X-Forwarded-For) may be kept by V8
 * as a view of that string, which would keep the whole header alive as long as a session
 * holds the slice; a copy holds its own characters only. Header values are Latin-1, which
 * UTF-8 carries unchanged.
 */
function ownCopy (value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8')
}
