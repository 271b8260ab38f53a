import { beforeEach, describe, expect, it } from 'vitest'
import { policyFromSeconds, type TokenLifetimePolicy } from '../../src/tokens/lifetime.js'
import { digestToken, generateToken, routingTagOf, sessionIdOf } from '../../src/tokens/token.js'
import type { TokenStore } from '../../src/tokens/token-store.js'
import { LAPTOP, NO_USER_AGENT, PHONE } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'

/** Idle lifetime 30 s, absolute cap 120 s: small numbers keep the arithmetic readable. */
export const CONTRACT_POLICY: TokenLifetimePolicy = policyFromSeconds(30, 120)

/**
 * Two usernames whose tokens share a routing tag (so a digest may pass from one to the
 * other on every store, a cluster's included): the first pair of `user<n>@example.com`.
 */
export function usersSharingARoutingTag (): [string, string] {
  const byTag = new Map<string, string>()
  for (let n = 0; ; n++) {
    const username = `user${n}@example.com`
    const other = byTag.get(routingTagOf(username))
    if (other !== undefined) return [other, username]
    byTag.set(routingTagOf(username), username)
  }
}

/**
 * The behaviour every TokenStore must have, run against each implementation (after
 * Lucia's adapter test suite). `makeStore` returns a fresh, empty store for the policy.
 */
export function describeTokenStore (name: string, makeStore: (policy: TokenLifetimePolicy) => Promise<TokenStore>): void {
  describe(`${name} (TokenStore contract)`, () => {
    let store: TokenStore
    let clock: FakeClock

    beforeEach(async () => {
      store = await makeStore(CONTRACT_POLICY)
      clock = new FakeClock()
      return async () => { await store.close() }
    })

    /** The digest of a new token of `username` (a token carries its user's routing tag). */
    const newDigest = (username = 'ada@example.com') => digestToken(generateToken(username))

    describe('issue', () => {
      it('stores a token whose session starts its life now', async () => {
        const digest = newDigest()
        const session = await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        expect(session).toEqual({
          id: sessionIdOf(digest),
          username: 'ada@example.com',
          userAgent: LAPTOP.userAgent,
          address: LAPTOP.address,
          createdAt: clock.now(),
          lastUsedAt: clock.now(),
          expiresAt: clock.now() + 30_000,
          refreshCount: 0
        })
        expect(await store.size()).toBe(1)
      })

      it('keeps each token apart', async () => {
        await store.issue(newDigest(), 'ada@example.com', LAPTOP, clock.now())
        await store.issue(newDigest(), 'ada@example.com', LAPTOP, clock.now())
        await store.issue(newDigest('bob@example.com'), 'bob@example.com', LAPTOP, clock.now())
        expect(await store.size()).toBe(3)
      })

      it('replaces a token issued again under the same digest, owner included', async () => {
        const [ada, bob] = usersSharingARoutingTag()
        const digest = newDigest(ada)
        await store.issue(digest, ada, LAPTOP, clock.now())
        await store.issue(digest, bob, PHONE, clock.now())
        expect(await store.size()).toBe(1)
        expect(await store.revokeAllForUser(ada)).toBe(0)
        expect(await store.reinflate(digest, clock.now())).toMatchObject({ username: bob, refreshCount: 1, ...PHONE })
      })

      it('keeps the device of each session, a missing user agent as null, through every operation', async () => {
        const devices = [LAPTOP, PHONE, NO_USER_AGENT, LAPTOP]
        const digests = devices.map(() => newDigest())
        for (const [i, device] of devices.entries()) {
          expect(await store.issue(digests[i]!, 'ada@example.com', device, clock.now())).toMatchObject(device)
          clock.advance(1)
        }
        expect(await store.reinflate(digests[1]!, clock.now())).toMatchObject(PHONE)
        expect((await store.listForUser('ada@example.com', clock.now())).map(({ userAgent, address }) => ({ userAgent, address })))
          .toEqual(devices)
        expect(await store.revoke(digests[2]!, clock.now())).toMatchObject({ userAgent: null, address: NO_USER_AGENT.address })
      })

      it('gives back, unchanged, a user agent or an address that no other session has', async () => {
        const device = { userAgent: 'curl/8.14.1 ünïcödé "quoted" \\ \u2603', address: '2001:db8:85a3::8a2e:370:7334' }
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', device, clock.now())
        expect(await store.listForUser('ada@example.com', clock.now())).toMatchObject([device])
        await store.revoke(digest, clock.now())
        // Issued again after the last holder went: kept anew, not lost with it.
        await store.issue(newDigest('bob@example.com'), 'bob@example.com', device, clock.now())
        expect(await store.listForUser('bob@example.com', clock.now())).toMatchObject([device])
      })
    })

    describe('reinflate', () => {
      it('accepts a live token, reinflates it and counts the refresh', async () => {
        const digest = newDigest()
        const issued = await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(20)
        const session = await store.reinflate(digest, clock.now())
        expect(session).toMatchObject({
          username: 'ada@example.com',
          createdAt: issued.createdAt,
          lastUsedAt: clock.now(),
          expiresAt: clock.now() + 30_000,
          refreshCount: 1
        })
        clock.advanceSeconds(20)
        expect(await store.reinflate(digest, clock.now())).toMatchObject({ refreshCount: 2, expiresAt: clock.now() + 30_000 })
      })

      it('refuses an unknown token', async () => {
        await store.issue(newDigest(), 'ada@example.com', LAPTOP, clock.now())
        expect(await store.reinflate(newDigest(), clock.now())).toBeNull()
      })

      it('refuses a token left idle for its whole idle lifetime, even before cleanup', async () => {
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        clock.advance(29_999)
        expect(await store.reinflate(digest, clock.now())).not.toBeNull()
        clock.advance(30_000)
        expect(await store.reinflate(digest, clock.now())).toBeNull()
        expect(await store.reinflate(digest, clock.now())).toBeNull()
      })

      it('never carries a token past its absolute lifetime, however often it is used', async () => {
        const digest = newDigest()
        const issued = await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        for (let elapsed = 20; elapsed < 120; elapsed += 20) {
          clock.advanceSeconds(20)
          const session = await store.reinflate(digest, clock.now())
          expect(session?.expiresAt).toBe(Math.min(clock.now() + 30_000, issued.createdAt + 120_000))
        }
        clock.advanceSeconds(20)
        expect(clock.now()).toBe(issued.createdAt + 120_000)
        expect(await store.reinflate(digest, clock.now())).toBeNull()
      })

      it('does not change an expired token or bring it back', async () => {
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(31)
        await store.reinflate(digest, clock.now())
        expect(await store.listForUser('ada@example.com', clock.now())).toEqual([])
        clock.advance(-10_000)
        expect(await store.reinflate(digest, clock.now())).toBeNull()
      })

      it('returns copies: changing a returned session changes nothing stored', async () => {
        const digest = newDigest()
        const issued = await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        issued.expiresAt += 1_000_000
        issued.username = 'mallory@example.com'
        const session = await store.reinflate(digest, clock.now())
        expect(session).toMatchObject({ username: 'ada@example.com', expiresAt: clock.now() + 30_000 })
      })
    })

    describe('revoke', () => {
      it('removes a live token and returns its session', async () => {
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        expect(await store.revoke(digest, clock.now())).toMatchObject({ id: sessionIdOf(digest), username: 'ada@example.com' })
        expect(await store.reinflate(digest, clock.now())).toBeNull()
        expect(await store.size()).toBe(0)
      })

      it('returns null for an unknown or an expired token', async () => {
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        expect(await store.revoke(newDigest(), clock.now())).toBeNull()
        clock.advanceSeconds(30)
        expect(await store.revoke(digest, clock.now())).toBeNull()
      })

      it('leaves the other tokens of the user alone', async () => {
        const first = newDigest()
        const second = newDigest()
        await store.issue(first, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(second, 'ada@example.com', LAPTOP, clock.now())
        await store.revoke(first, clock.now())
        expect(await store.reinflate(second, clock.now())).not.toBeNull()
      })
    })

    describe('revokeSession', () => {
      it('ends the session of the user with that id: its token is dead at once, the others live', async () => {
        const ended = newDigest()
        const kept = newDigest()
        await store.issue(ended, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(kept, 'ada@example.com', PHONE, clock.now())
        expect(await store.revokeSession('ada@example.com', sessionIdOf(ended), clock.now())).toBe(true)
        expect(await store.reinflate(ended, clock.now())).toBeNull()
        expect(await store.reinflate(kept, clock.now())).not.toBeNull()
        expect((await store.listForUser('ada@example.com', clock.now())).map((session) => session.id)).toEqual([sessionIdOf(kept)])
        expect(await store.size()).toBe(1)
      })

      it('ends a user\'s only session, and the user\'s next login starts afresh', async () => {
        const only = newDigest()
        await store.issue(only, 'ada@example.com', LAPTOP, clock.now())
        expect(await store.revokeSession('ada@example.com', sessionIdOf(only), clock.now())).toBe(true)
        expect(await store.size()).toBe(0)
        expect(await store.listForUser('ada@example.com', clock.now())).toEqual([])
        const next = newDigest()
        await store.issue(next, 'ada@example.com', PHONE, clock.now())
        expect(await store.listForUser('ada@example.com', clock.now())).toMatchObject([{ id: sessionIdOf(next), ...PHONE }])
      })

      it('answers false, and ends nothing, for another user\'s session: the same answer as for an unknown id', async () => {
        const bobs = newDigest('bob@example.com')
        await store.issue(bobs, 'bob@example.com', LAPTOP, clock.now())
        await store.issue(newDigest(), 'ada@example.com', LAPTOP, clock.now())
        expect(await store.revokeSession('ada@example.com', sessionIdOf(bobs), clock.now())).toBe(false)
        expect(await store.revokeSession('ada@example.com', sessionIdOf(newDigest()), clock.now())).toBe(false)
        expect(await store.revokeSession('nobody@example.com', sessionIdOf(bobs), clock.now())).toBe(false)
        expect(await store.reinflate(bobs, clock.now())).not.toBeNull()
        expect(await store.size()).toBe(2)
      })

      it('answers false for what is not a session id: the digest itself, the token\'s prefix, empty or odd strings', async () => {
        const token = generateToken('ada@example.com')
        const digest = digestToken(token)
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        for (const notAnId of [digest, sessionIdOf(digest).slice(0, 15), `${sessionIdOf(digest)}x`, token.slice(0, 16), '', '*', '\u0000', 'x'.repeat(100)]) {
          expect(await store.revokeSession('ada@example.com', notAnId, clock.now()), JSON.stringify(notAnId)).toBe(false)
        }
        expect(await store.reinflate(digest, clock.now())).not.toBeNull()
      })

      it('answers false for an expired session, and false again once it ended', async () => {
        const expiring = newDigest()
        const ended = newDigest()
        await store.issue(expiring, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(ended, 'ada@example.com', LAPTOP, clock.now())
        expect(await store.revokeSession('ada@example.com', sessionIdOf(ended), clock.now())).toBe(true)
        expect(await store.revokeSession('ada@example.com', sessionIdOf(ended), clock.now())).toBe(false)
        clock.advanceSeconds(30)
        expect(await store.revokeSession('ada@example.com', sessionIdOf(expiring), clock.now())).toBe(false)
        expect(await store.reinflate(expiring, clock.now())).toBeNull()
      })

      it('ends one of a user\'s many sessions, whichever its place among them', async () => {
        const digests = Array.from({ length: 7 }, () => newDigest())
        for (const digest of digests) await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        for (const index of [3, 0, 6]) {
          expect(await store.revokeSession('ada@example.com', sessionIdOf(digests[index]!), clock.now())).toBe(true)
        }
        const left = [1, 2, 4, 5].map((index) => sessionIdOf(digests[index]!))
        expect((await store.listForUser('ada@example.com', clock.now())).map((session) => session.id).sort()).toEqual(left.sort())
        expect(await store.size()).toBe(4)
      })
    })

    describe('revokeAllForUser', () => {
      it('removes every token of the user and no one else\'s', async () => {
        const ada = [newDigest(), newDigest(), newDigest()]
        const bob = newDigest('bob@example.com')
        for (const digest of ada) await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(bob, 'bob@example.com', LAPTOP, clock.now())
        expect(await store.revokeAllForUser('ada@example.com')).toBe(3)
        for (const digest of ada) expect(await store.reinflate(digest, clock.now())).toBeNull()
        expect(await store.reinflate(bob, clock.now())).not.toBeNull()
        expect(await store.size()).toBe(1)
      })

      it('returns 0 for a user without tokens', async () => {
        await store.issue(newDigest('bob@example.com'), 'bob@example.com', LAPTOP, clock.now())
        expect(await store.revokeAllForUser('ada@example.com')).toBe(0)
        expect(await store.size()).toBe(1)
      })
    })

    describe('listForUser', () => {
      it('lists the live tokens of the user, oldest first, with their public ids', async () => {
        const first = newDigest()
        const second = newDigest()
        await store.issue(first, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(10)
        await store.issue(second, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(newDigest('bob@example.com'), 'bob@example.com', LAPTOP, clock.now())
        await store.reinflate(first, clock.now())
        const sessions = await store.listForUser('ada@example.com', clock.now())
        expect(sessions.map((session) => session.id)).toEqual([sessionIdOf(first), sessionIdOf(second)])
        expect(sessions[0]).toMatchObject({ refreshCount: 1, lastUsedAt: clock.now() })
        expect(JSON.stringify(sessions)).not.toContain(first)
      })

      it('leaves out expired tokens and answers [] for a user without tokens', async () => {
        const stale = newDigest()
        await store.issue(stale, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(20)
        const fresh = newDigest()
        await store.issue(fresh, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(15)
        expect((await store.listForUser('ada@example.com', clock.now())).map((s) => s.id)).toEqual([sessionIdOf(fresh)])
        expect(await store.listForUser('nobody@example.com', clock.now())).toEqual([])
      })
    })

    describe('removeExpired', () => {
      it('removes exactly the tokens expired by now', async () => {
        const idle = newDigest()
        const used = newDigest()
        await store.issue(idle, 'ada@example.com', LAPTOP, clock.now())
        await store.issue(used, 'ada@example.com', LAPTOP, clock.now())
        clock.advanceSeconds(20)
        await store.reinflate(used, clock.now())
        clock.advanceSeconds(10)
        expect(await store.removeExpired(clock.now())).toBe(1)
        expect(await store.size()).toBe(1)
        expect(await store.reinflate(used, clock.now())).not.toBeNull()
      })

      it('removes nothing while every token is live', async () => {
        await store.issue(newDigest(), 'ada@example.com', LAPTOP, clock.now())
        clock.advance(29_999)
        expect(await store.removeExpired(clock.now())).toBe(0)
        expect(await store.size()).toBe(1)
      })

      it('removes tokens that reached the absolute cap', async () => {
        const digest = newDigest()
        await store.issue(digest, 'ada@example.com', LAPTOP, clock.now())
        for (let i = 0; i < 5; i++) {
          clock.advanceSeconds(20)
          await store.reinflate(digest, clock.now())
        }
        clock.advanceSeconds(20)
        expect(await store.removeExpired(clock.now())).toBe(1)
        expect(await store.size()).toBe(0)
      })

      it('empties the store of many expired tokens', async () => {
        for (let i = 0; i < 500; i++) {
          await store.issue(newDigest(`user${i % 7}@example.com`), `user${i % 7}@example.com`, LAPTOP, clock.now())
          clock.advance(37)
        }
        clock.advanceSeconds(31)
        expect(await store.removeExpired(clock.now())).toBe(500)
        expect(await store.size()).toBe(0)
        expect(await store.listForUser('user1@example.com', clock.now())).toEqual([])
      })
    })

    describe('ping', () => {
      it('resolves for a working store', async () => {
        await expect(store.ping()).resolves.toBeUndefined()
      })
    })
  })
}
