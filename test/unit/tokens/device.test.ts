import { describe, expect, it } from 'vitest'
import { deviceOf, MAX_ADDRESS_LENGTH, MAX_USER_AGENT_LENGTH } from '../../../src/tokens/device.js'

describe('deviceOf', () => {
  it('keeps the User-Agent and the client address of a login', () => {
    expect(deviceOf('curl/8.14.1', '203.0.113.7')).toEqual({ userAgent: 'curl/8.14.1', address: '203.0.113.7' })
  })

  it('records no User-Agent, absent or empty, as null', () => {
    expect(deviceOf(undefined, '::1')).toEqual({ userAgent: null, address: '::1' })
    expect(deviceOf('', '::1')).toEqual({ userAgent: null, address: '::1' })
  })

  it('cuts a longer User-Agent and address to their bounds', () => {
    const { userAgent, address } = deviceOf('A'.repeat(16_000), `2001:db8::${'f'.repeat(200)}`)
    expect(userAgent).toBe('A'.repeat(MAX_USER_AGENT_LENGTH))
    expect(address).toHaveLength(MAX_ADDRESS_LENGTH)
  })

  it('keeps characters beyond ASCII as they were sent', () => {
    expect(deviceOf('Mozilla/5.0 (ünïcödé; ☃)', '198.51.100.23').userAgent).toBe('Mozilla/5.0 (ünïcödé; ☃)')
  })
})
