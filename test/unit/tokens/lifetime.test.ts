import { describe, expect, it } from 'vitest'
import { expiryAfterUse, isExpired, policyFromSeconds, expiresInSeconds, type TokenLifetimePolicy } from '../../../src/tokens/lifetime.js'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const SECOND = 1000
const POLICY: TokenLifetimePolicy = { idleTtlMs: 30 * SECOND, maxLifetimeMs: 86400 * SECOND }

describe('lifetime', () => {
  describe('policyFromSeconds', () => {
    it('converts both lifetimes from seconds to milliseconds', () => {
      expect(policyFromSeconds(30, 86400)).toEqual({ idleTtlMs: 30_000, maxLifetimeMs: 86_400_000 })
      expect(policyFromSeconds(1, 2)).toEqual({ idleTtlMs: 1000, maxLifetimeMs: 2000 })
    })

    it('keeps the idle and the absolute lifetime apart (arguments not swapped)', () => {
      const policy = policyFromSeconds(5, 60)
      expect(policy.idleTtlMs).not.toBe(60_000)
      expect(policy.maxLifetimeMs).not.toBe(5000)
    })
  })

  describe('expiryAfterUse', () => {
    it('is the idle lifetime after creation for a new token', () => {
      expect(expiryAfterUse(POLICY, T0, T0)).toBe(T0 + 30 * SECOND)
    })

    it('starts the idle lifetime again at each use (reinflation)', () => {
      expect(expiryAfterUse(POLICY, T0, T0 + 20 * SECOND)).toBe(T0 + 50 * SECOND)
      expect(expiryAfterUse(POLICY, T0, T0 + 3600 * SECOND)).toBe(T0 + 3630 * SECOND)
    })

    it('does not count the idle lifetime from creation once the token is used', () => {
      expect(expiryAfterUse(POLICY, T0, T0 + 20 * SECOND)).not.toBe(T0 + 30 * SECOND)
    })

    it('is capped by the absolute lifetime counted from creation', () => {
      const lateUse = T0 + 86390 * SECOND
      expect(expiryAfterUse(POLICY, T0, lateUse)).toBe(T0 + 86400 * SECOND)
      expect(expiryAfterUse(POLICY, T0, lateUse)).toBeLessThan(lateUse + POLICY.idleTtlMs)
    })

    it('is not capped while the idle lifetime ends before the absolute one', () => {
      const use = T0 + 86370 * SECOND
      expect(expiryAfterUse(POLICY, T0, use)).toBe(use + POLICY.idleTtlMs)
      expect(expiryAfterUse(POLICY, T0, use)).toBe(T0 + 86400 * SECOND)
      expect(expiryAfterUse(POLICY, T0, use - SECOND)).toBe(T0 + 86399 * SECOND)
    })

    it('is the absolute lifetime from the start when the idle lifetime is longer than it', () => {
      const policy = policyFromSeconds(60, 10)
      expect(expiryAfterUse(policy, T0, T0)).toBe(T0 + 10 * SECOND)
      expect(expiryAfterUse(policy, T0, T0 + 5 * SECOND)).toBe(T0 + 10 * SECOND)
    })

    it('never moves past createdAt + maxLifetime, however late the use', () => {
      expect(expiryAfterUse(POLICY, T0, T0 + 10 * 86400 * SECOND)).toBe(T0 + 86400 * SECOND)
    })
  })

  describe('isExpired', () => {
    const expiresAt = T0 + 30 * SECOND

    it('is expired exactly at the expiry moment', () => {
      expect(isExpired(expiresAt, expiresAt)).toBe(true)
    })

    it('is not expired 1 ms before', () => {
      expect(isExpired(expiresAt, expiresAt - 1)).toBe(false)
    })

    it('is expired any time after', () => {
      expect(isExpired(expiresAt, expiresAt + 1)).toBe(true)
      expect(isExpired(expiresAt, expiresAt + 86400 * SECOND)).toBe(true)
    })

    it('is not expired at creation', () => {
      expect(isExpired(expiryAfterUse(POLICY, T0, T0), T0)).toBe(false)
    })
  })

  describe('expiresInSeconds', () => {
    const expiresAt = T0 + 30 * SECOND

    it('is the whole seconds left when they are whole', () => {
      expect(expiresInSeconds(expiresAt, T0)).toBe(30)
      expect(expiresInSeconds(expiresAt, expiresAt - SECOND)).toBe(1)
    })

    it('rounds a fraction of a second up, never down', () => {
      expect(expiresInSeconds(expiresAt, T0 + 1)).toBe(30)
      expect(expiresInSeconds(expiresAt, T0 + 999)).toBe(30)
      expect(expiresInSeconds(expiresAt, T0 + SECOND)).toBe(29)
      expect(expiresInSeconds(expiresAt, expiresAt - 1)).toBe(1)
      expect(expiresInSeconds(expiresAt, expiresAt - 1)).not.toBe(0)
    })

    it('is 0 at the expiry moment', () => {
      expect(expiresInSeconds(expiresAt, expiresAt)).toBe(0)
    })

    it('is never negative after expiry', () => {
      expect(expiresInSeconds(expiresAt, expiresAt + 1)).toBe(0)
      expect(expiresInSeconds(expiresAt, expiresAt + 5 * SECOND)).toBe(0)
      expect(Object.is(expiresInSeconds(expiresAt, expiresAt + 1), -0)).toBe(false)
    })

    it('is positive exactly while the token is not expired', () => {
      for (const now of [T0, expiresAt - 1, expiresAt, expiresAt + 1]) {
        expect(expiresInSeconds(expiresAt, now) > 0).toBe(!isExpired(expiresAt, now))
      }
    })
  })
})
