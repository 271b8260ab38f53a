import { beforeEach, describe, expect, it } from 'vitest'
import { DuplicateUserError, UnknownUserError, type UserAdmin } from '../../src/users/user-store.js'

/** Well-formed argon2id PHC strings; the stores keep hashes, they do not check passwords. */
export const HASH_A = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdC1vbmUtMTIzNA$aGFzaC1vbmUtYWJjZGVmZ2hpams'
export const HASH_B = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdC10d28tMTIzNA$aGFzaC10d28tYWJjZGVmZ2hpams'
export const HASH_C = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdC10aHJlZS0xMjM$aGFzaC10aHJlZS1hYmNkZWZnaGk'

/**
 * The behaviour every user store must have, run against each implementation (as the
 * token stores' contract is). `makeStore` returns a fresh, empty store and arranges its
 * own closing.
 */
export function describeUserStore (name: string, makeStore: () => Promise<UserAdmin>): void {
  describe(`${name} (UserStore contract)`, () => {
    let store: UserAdmin

    beforeEach(async () => {
      store = await makeStore()
    })

    describe('add and findByUsername', () => {
      it('finds an added user, with the username as stored', async () => {
        await store.add('Ada@Example.com', HASH_A)
        expect(await store.findByUsername('Ada@Example.com')).toEqual({ username: 'Ada@Example.com', passwordHash: HASH_A })
      })

      it('finds a user whatever the case and surrounding whitespace of the username asked for', async () => {
        await store.add('Ada@Example.com', HASH_A)
        for (const asked of ['ada@example.com', 'ADA@EXAMPLE.COM', '  ada@Example.com\t']) {
          expect(await store.findByUsername(asked)).toEqual({ username: 'Ada@Example.com', passwordHash: HASH_A })
        }
      })

      it('gives undefined for an unknown username, or one that differs inside', async () => {
        await store.add('ada@example.com', HASH_A)
        for (const asked of ['eve@example.com', '', 'ada@example.co', 'ada @example.com', '%', 'ada@example.com%', 'ada_example.com']) {
          expect(await store.findByUsername(asked)).toBeUndefined()
        }
      })

      it('refuses a second user with the same username in another case, and keeps the first', async () => {
        await store.add('ada@example.com', HASH_A)
        await expect(store.add('ADA@example.com', HASH_B)).rejects.toBeInstanceOf(DuplicateUserError)
        await expect(store.add(' ada@example.com ', HASH_B)).rejects.toMatchObject({ name: 'DuplicateUserError', username: 'ada@example.com' })
        expect(await store.findByUsername('ada@example.com')).toEqual({ username: 'ada@example.com', passwordHash: HASH_A })
      })

      it('keeps users apart', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.add('grace@example.com', HASH_B)
        expect((await store.findByUsername('grace@example.com'))?.passwordHash).toBe(HASH_B)
        expect((await store.findByUsername('ada@example.com'))?.passwordHash).toBe(HASH_A)
      })

      it('returns copies: changing one changes nothing stored', async () => {
        await store.add('ada@example.com', HASH_A)
        const user = await store.findByUsername('ada@example.com')
        user!.passwordHash = HASH_B
        user!.username = 'eve@example.com'
        expect(await store.findByUsername('ada@example.com')).toEqual({ username: 'ada@example.com', passwordHash: HASH_A })
        expect(await store.findByUsername('eve@example.com')).toBeUndefined()
      })
    })

    describe('has', () => {
      it('tells whether a username is held, enabled or not, whatever its case', async () => {
        await store.add('ada@example.com', HASH_A)
        expect(await store.has('ADA@example.com')).toBe(true)
        await store.setDisabled('ada@example.com', true)
        expect(await store.has('ada@example.com')).toBe(true)
        expect(await store.has('eve@example.com')).toBe(false)
      })
    })

    describe('the changes', () => {
      it('give the username as stored, whatever the case asked for', async () => {
        await store.add('Ada@Example.com', HASH_A)
        expect(await store.setDisabled('ada@example.com', true)).toBe('Ada@Example.com')
        expect(await store.setDisabled('ADA@example.com', false)).toBe('Ada@Example.com')
        expect(await store.setPassword(' ada@example.com', HASH_B)).toBe('Ada@Example.com')
        expect(await store.remove('ada@EXAMPLE.com')).toBe('Ada@Example.com')
      })
    })

    describe('setDisabled', () => {
      it('hides a disabled user from findByUsername, and enabling brings them back', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.setDisabled('ADA@example.com', true)
        expect(await store.findByUsername('ada@example.com')).toBeUndefined()
        await store.setDisabled('ada@example.com', true)
        expect(await store.findByUsername('ada@example.com')).toBeUndefined()
        await store.setDisabled('ada@example.com', false)
        expect(await store.findByUsername('ada@example.com')).toEqual({ username: 'ada@example.com', passwordHash: HASH_A })
      })

      it('rejects an unknown username with UnknownUserError', async () => {
        await expect(store.setDisabled('eve@example.com', true)).rejects.toMatchObject({ name: 'UnknownUserError', username: 'eve@example.com' })
        await expect(store.setDisabled('eve@example.com', false)).rejects.toBeInstanceOf(UnknownUserError)
      })

      it('still refuses a new user with the username of a disabled one', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.setDisabled('ada@example.com', true)
        await expect(store.add('ada@example.com', HASH_B)).rejects.toBeInstanceOf(DuplicateUserError)
      })
    })

    describe('setPassword', () => {
      it('replaces the hash, whatever the case of the username', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.setPassword('Ada@Example.COM', HASH_B)
        expect(await store.findByUsername('ada@example.com')).toEqual({ username: 'ada@example.com', passwordHash: HASH_B })
      })

      it('works on a disabled user, who stays disabled', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.setDisabled('ada@example.com', true)
        await store.setPassword('ada@example.com', HASH_B)
        expect(await store.findByUsername('ada@example.com')).toBeUndefined()
        await store.setDisabled('ada@example.com', false)
        expect((await store.findByUsername('ada@example.com'))?.passwordHash).toBe(HASH_B)
      })

      it('rejects an unknown username with UnknownUserError', async () => {
        await expect(store.setPassword('eve@example.com', HASH_A)).rejects.toBeInstanceOf(UnknownUserError)
      })
    })

    describe('updatePasswordHash', () => {
      it('replaces the hash while it is still the one expected', async () => {
        await store.add('ada@example.com', HASH_A)
        expect(await store.updatePasswordHash('ADA@example.com', { from: HASH_A, to: HASH_B })).toBe(true)
        expect((await store.findByUsername('ada@example.com'))?.passwordHash).toBe(HASH_B)
      })

      it('changes nothing when the hash changed meanwhile (a password reset wins over a rehash)', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.setPassword('ada@example.com', HASH_C)
        expect(await store.updatePasswordHash('ada@example.com', { from: HASH_A, to: HASH_B })).toBe(false)
        expect((await store.findByUsername('ada@example.com'))?.passwordHash).toBe(HASH_C)
      })

      it('answers false for an unknown username', async () => {
        expect(await store.updatePasswordHash('eve@example.com', { from: HASH_A, to: HASH_B })).toBe(false)
        expect(await store.has('eve@example.com')).toBe(false)
      })
    })

    describe('remove', () => {
      it('deletes the user, whose username can then be added again', async () => {
        await store.add('ada@example.com', HASH_A)
        await store.add('grace@example.com', HASH_B)
        await store.remove('ADA@example.com')
        expect(await store.findByUsername('ada@example.com')).toBeUndefined()
        expect(await store.has('ada@example.com')).toBe(false)
        expect(await store.findByUsername('grace@example.com')).toBeDefined()
        await store.add('ada@example.com', HASH_C)
        expect((await store.findByUsername('ada@example.com'))?.passwordHash).toBe(HASH_C)
      })

      it('rejects an unknown username with UnknownUserError', async () => {
        await expect(store.remove('eve@example.com')).rejects.toBeInstanceOf(UnknownUserError)
      })
    })

    describe('list', () => {
      it('answers [] for an empty store', async () => {
        expect(await store.list()).toEqual([])
      })

      it('lists every user, disabled ones too, by username regardless of case, without hashes', async () => {
        const before = Date.now()
        await store.add('grace@example.com', HASH_B)
        await store.add('Ada@example.com', HASH_A)
        await store.add('bob@example.com', HASH_C)
        await store.setDisabled('bob@example.com', true)
        const users = await store.list()
        expect(users.map(({ username, disabled }) => ({ username, disabled }))).toEqual([
          { username: 'Ada@example.com', disabled: false },
          { username: 'bob@example.com', disabled: true },
          { username: 'grace@example.com', disabled: false }
        ])
        for (const user of users) {
          expect(Object.keys(user).sort()).toEqual(['createdAt', 'disabled', 'updatedAt', 'username'])
          expect(user.createdAt).toBeInstanceOf(Date)
          // Generous bounds: the database's clock is not the test's.
          expect(Math.abs(user.createdAt.getTime() - before)).toBeLessThan(60_000)
          expect(user.updatedAt.getTime()).toBeGreaterThanOrEqual(user.createdAt.getTime())
        }
      })

      it('moves updatedAt, not createdAt, on a change', async () => {
        await store.add('ada@example.com', HASH_A)
        const [added] = await store.list()
        await new Promise((resolve) => setTimeout(resolve, 5))
        await store.setPassword('ada@example.com', HASH_B)
        const [changed] = await store.list()
        expect(changed!.createdAt).toEqual(added!.createdAt)
        expect(changed!.updatedAt.getTime()).toBeGreaterThan(added!.updatedAt.getTime())
      })
    })
  })
}
