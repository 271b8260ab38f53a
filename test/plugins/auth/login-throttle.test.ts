import { describe, expect, it } from 'vitest'
import { addressKey } from '../../../plugins/auth/login-throttle.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../../helpers/build-app.js'

describe('addressKey', () => {
  it('counts an IPv6 client by its /64, however it writes or rotates its address', () => {
    const key = addressKey('2001:db8:1:2::1')
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(key)
    expect(addressKey('2001:0db8:0001:0002:8a2e:0370:7334:0001')).toBe(key)
    expect(addressKey('2001:DB8:1:2::abcd')).toBe(key)
  })

  it('tells apart IPv6 clients in different /64s', () => {
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('2001:db8:2:2::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('::1')).not.toBe(addressKey('::2:0:0:0:1'))
  })

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(addressKey('::ffff:203.0.113.5')).toBe(addressKey('203.0.113.5'))
    expect(addressKey('::ffff:cb00:7105')).toBe(addressKey('203.0.113.5'))
  })

  it('keeps every IPv4 address on its own', () => {
    expect(addressKey('203.0.113.5')).toBe('address:203.0.113.5')
    expect(addressKey('203.0.113.6')).not.toBe(addressKey('203.0.113.5'))
    expect(addressKey('::ffff:203.0.113.6')).not.toBe(addressKey('203.0.113.5'))
  })
})

describe('POST /auth/login, throttled per client address', () => {
  function attempt (app: Awaited<ReturnType<typeof buildTestApp>>['app'], remoteAddress: string) {
    return app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
  }

  it('gives an IPv6 client rotating addresses inside its /64 one count, and another /64 its own', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_IP: 3 } })
    const rotating = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:a:b:c:d', '2001:db8:1:2:ffff::9']
    const statuses = []
    for (const address of rotating) statuses.push((await attempt(app, address)).statusCode)
    expect(statuses).toEqual([200, 200, 200, 429])
    expect((await attempt(app, '2001:db8:1:3::1')).statusCode).toBe(200)
  })

  it('counts a dual-stack socket\'s IPv4-mapped address with the IPv4 address', async () => {
    const { app } = await buildTestApp({ config: { LOGIN_MAX_PER_IP: 2 } })
    expect((await attempt(app, '203.0.113.5')).statusCode).toBe(200)
    expect((await attempt(app, '::ffff:203.0.113.5')).statusCode).toBe(200)
    expect((await attempt(app, '203.0.113.5')).statusCode).toBe(429)
  })
})
