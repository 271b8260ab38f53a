import type { Device } from '../../src/tokens/device.js'

/** Devices a test's sessions are opened from (the User-Agent and client address of a login). */
export const LAPTOP: Device = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0', address: '203.0.113.7' }
export const PHONE: Device = { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', address: '2001:db8::42' }
/** A client that sends no User-Agent (curl -H 'User-Agent:', a script). */
export const NO_USER_AGENT: Device = { userAgent: null, address: '198.51.100.23' }
