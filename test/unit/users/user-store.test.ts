import { describe, expect, it } from 'vitest'
import { MemoryUserStore, normalizeUsername, type User } from '../../../src/users/user-store.js'

const ADA: User = { username: 'ada@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$YWRhc2FsdA$YWRhaGFzaA' }
const GRACE: User = { username: 'Grace.Hopper@Example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$Z3JhY2VzYWx0$Z3JhY2VoYXNo' }

describe('user-store', () => {
  describe('normalizeUsername', () => {
    it('lowers the case', () => {
      expect(normalizeUsername('Ada@Example.COM')).toBe('ada@example.com')
    })

    it('trims surrounding whitespace', () => {
      expect(normalizeUsername('  ada@example.com\t\n')).toBe('ada@example.com')
    })

    it('leaves an already normal username as it is', () => {
      expect(normalizeUsername('ada@example.com')).toBe('ada@example.com')
    })

    it('keeps inner characters: whitespace, dots and plus signs are not removed', () => {
      expect(normalizeUsername('a da@example.com')).toBe('a da@example.com')
      expect(normalizeUsername('a.da+x@example.com')).toBe('a.da+x@example.com')
      expect(normalizeUsername('a.da@example.com')).not.toBe(normalizeUsername('ada@example.com'))
    })
  })

  describe('MemoryUserStore', () => {
    describe('findByUsername', () => {
      const store = new MemoryUserStore([ADA, GRACE])

      it('finds a user by the exact username', async () => {
        expect(await store.findByUsername('ada@example.com')).toEqual(ADA)
      })

      it('finds a user whatever the case of the username asked for', async () => {
        expect(await store.findByUsername('ADA@EXAMPLE.COM')).toEqual(ADA)
        expect(await store.findByUsername('Ada@Example.Com')).toEqual(ADA)
      })

      it('finds a user stored with capitals by the lower-case username', async () => {
        expect(await store.findByUsername('grace.hopper@example.com')).toEqual(GRACE)
      })

      it('returns the username as stored, not as asked for', async () => {
        expect((await store.findByUsername('GRACE.HOPPER@EXAMPLE.COM'))?.username).toBe('Grace.Hopper@Example.com')
      })

      it('ignores surrounding whitespace in the username asked for', async () => {
        expect(await store.findByUsername('  ada@example.com ')).toEqual(ADA)
        expect(await store.findByUsername('\tADA@example.com\n')).toEqual(ADA)
      })

      it('gives undefined for an unknown username', async () => {
        expect(await store.findByUsername('eve@example.com')).toBeUndefined()
        expect(await store.findByUsername('')).toBeUndefined()
        expect(await store.findByUsername('ada@example.co')).toBeUndefined()
        expect(await store.findByUsername('ada')).toBeUndefined()
      })

      it('does not match on inner whitespace', async () => {
        expect(await store.findByUsername('ada @example.com')).toBeUndefined()
      })

      it('gives undefined for anything in an empty store', async () => {
        expect(await new MemoryUserStore([]).findByUsername('ada@example.com')).toBeUndefined()
      })

      it('does not confuse user names with the properties of an object', async () => {
        for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
          expect(await store.findByUsername(name)).toBeUndefined()
        }
      })
    })

    describe('constructor', () => {
      it('accepts distinct usernames', () => {
        expect(() => new MemoryUserStore([ADA, GRACE])).not.toThrow()
      })

      it('throws on a duplicate username', () => {
        expect(() => new MemoryUserStore([ADA, { ...ADA }])).toThrow(/duplicate username/)
      })

      it('throws on usernames that differ only by case', () => {
        expect(() => new MemoryUserStore([ADA, { ...ADA, username: 'ADA@example.com' }])).toThrow(/ADA@example.com/)
      })

      it('throws on usernames that differ only by surrounding whitespace', () => {
        expect(() => new MemoryUserStore([ADA, { ...ADA, username: ' ada@example.com ' }])).toThrow(/duplicate username/)
      })
    })

    describe('copies', () => {
      it('returns a copy: changing it changes nothing in the store', async () => {
        const store = new MemoryUserStore([ADA])
        const user = await store.findByUsername('ada@example.com')
        expect(user).toBeDefined()
        if (user === undefined) return
        user.passwordHash = 'tampered'
        user.username = 'eve@example.com'
        expect(await store.findByUsername('ada@example.com')).toEqual(ADA)
        expect(await store.findByUsername('eve@example.com')).toBeUndefined()
      })

      it('returns a new object on each lookup', async () => {
        const store = new MemoryUserStore([ADA])
        const first = await store.findByUsername('ada@example.com')
        const second = await store.findByUsername('ada@example.com')
        expect(first).toEqual(second)
        expect(first).not.toBe(second)
      })

      it('keeps its own copy of the users it was given', async () => {
        const given = { ...ADA }
        const store = new MemoryUserStore([given])
        given.passwordHash = 'tampered'
        const found = await store.findByUsername('ada@example.com')
        expect(found).toEqual(ADA)
        expect(found).not.toBe(given)
      })
    })
  })
})
