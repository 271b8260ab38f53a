import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConcurrencyLimiter, LimiterFullError } from '../../../src/concurrency-limiter.js'
import { Authenticator } from '../../../src/users/authenticator.js'
import { createDummyHash, hashPassword, verifyPassword } from '../../../src/users/password.js'
import { MemoryUserStore, type User } from '../../../src/users/user-store.js'

const dummyHashes = vi.hoisted(() => [] as string[])

// The real functions, counted: verifyPassword's calls show which hash each login is checked against.
vi.mock('../../../src/users/password.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/users/password.js')>()
  return {
    ...original,
    verifyPassword: vi.fn(original.verifyPassword),
    createDummyHash: vi.fn(async () => {
      const hash = await original.createDummyHash()
      dummyHashes.push(hash)
      return hash
    })
  }
})

const PASSWORD = 'ada-s secret'
let ada: User
let authenticator: Authenticator
let dummyHash: string

beforeAll(async () => {
  ada = { username: 'Ada@Example.com', passwordHash: await hashPassword(PASSWORD) }
  authenticator = await Authenticator.create(new MemoryUserStore([ada]))
  expect(dummyHashes).toHaveLength(1)
  dummyHash = dummyHashes[0] ?? ''
})

beforeEach(() => {
  vi.mocked(verifyPassword).mockClear()
})

describe('Authenticator', () => {
  describe('create', () => {
    it('makes one dummy hash, distinct from every user hash', () => {
      expect(vi.mocked(createDummyHash)).toHaveBeenCalledTimes(1)
      expect(dummyHash).toMatch(/^\$argon2id\$/)
      expect(dummyHash).not.toBe(ada.passwordHash)
    })

    it('gives each authenticator its own dummy hash', async () => {
      await Authenticator.create(new MemoryUserStore([]))
      expect(dummyHashes).toHaveLength(2)
      expect(dummyHashes[1]).not.toBe(dummyHash)
    })
  })

  describe('authenticate', () => {
    it('succeeds with the right password, giving the user', async () => {
      expect(await authenticator.authenticate('Ada@Example.com', PASSWORD)).toEqual({ ok: true, user: ada })
    })

    it('checks the password against the user hash, once', async () => {
      await authenticator.authenticate('Ada@Example.com', PASSWORD)
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledTimes(1)
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledWith(ada.passwordHash, PASSWORD)
    })

    it('finds the user whatever the case and surrounding whitespace of the username', async () => {
      expect(await authenticator.authenticate('  ada@example.COM ', PASSWORD)).toEqual({ ok: true, user: ada })
    })

    it("fails with 'wrong-password' for a wrong password, giving the user for the log", async () => {
      expect(await authenticator.authenticate('ada@example.com', 'not her password')).toEqual({ ok: false, reason: 'wrong-password', user: ada })
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledTimes(1)
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledWith(ada.passwordHash, 'not her password')
    })

    it("fails with 'wrong-password' for the right password in another case or padded", async () => {
      expect(await authenticator.authenticate('ada@example.com', PASSWORD.toUpperCase())).toMatchObject({ ok: false, reason: 'wrong-password' })
      expect(await authenticator.authenticate('ada@example.com', ` ${PASSWORD}`)).toMatchObject({ ok: false, reason: 'wrong-password' })
    })

    it("fails with 'unknown-user' for an unknown username, without a user", async () => {
      const result = await authenticator.authenticate('eve@example.com', PASSWORD)
      expect(result).toEqual({ ok: false, reason: 'unknown-user' })
      expect(result).not.toHaveProperty('user')
    })

    it('runs a real argon2 verification against the dummy hash for an unknown username', async () => {
      await authenticator.authenticate('eve@example.com', 'guess')
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledTimes(1)
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledWith(dummyHash, 'guess')
      expect(vi.mocked(verifyPassword)).not.toHaveBeenCalledWith(ada.passwordHash, expect.anything())
      // The call went to the real verifyPassword: it resolved (false) after checking an argon2id hash.
      await expect(vi.mocked(verifyPassword).mock.results[0]?.value).resolves.toBe(false)
    })

    it('verifies the same number of times for an unknown user as for a wrong password', async () => {
      await authenticator.authenticate('eve@example.com', 'guess')
      const unknownUserCalls = vi.mocked(verifyPassword).mock.calls.length
      vi.mocked(verifyPassword).mockClear()
      await authenticator.authenticate('ada@example.com', 'guess')
      expect(vi.mocked(verifyPassword).mock.calls.length).toBe(unknownUserCalls)
    })

    it("stays 'unknown-user' even if the dummy hash were to match", async () => {
      vi.mocked(verifyPassword).mockResolvedValueOnce(true)
      expect(await authenticator.authenticate('eve@example.com', 'anything')).toEqual({ ok: false, reason: 'unknown-user' })
    })

    it("stays 'unknown-user' for an empty username, still verifying", async () => {
      expect(await authenticator.authenticate('', PASSWORD)).toEqual({ ok: false, reason: 'unknown-user' })
      expect(vi.mocked(verifyPassword)).toHaveBeenCalledWith(dummyHash, PASSWORD)
    })

    it("fails with 'wrong-password', not an exception, when the stored hash is unreadable", async () => {
      const broken: User = { username: 'broken@example.com', passwordHash: 'not-a-hash' }
      const withBroken = await Authenticator.create(new MemoryUserStore([broken]))
      expect(await withBroken.authenticate('broken@example.com', 'not-a-hash')).toEqual({ ok: false, reason: 'wrong-password', user: broken })
    })
  })

  describe('with a bounded password work', () => {
    it('verifies the password in a slot of it: none free and none to wait for is a LimiterFullError', async () => {
      const passwordWork = new ConcurrencyLimiter(1, 0)
      const bounded = await Authenticator.create(new MemoryUserStore([ada]), { passwordWork })
      let release = () => {}
      const busy = passwordWork.run(() => new Promise<void>((resolve) => { release = resolve }))
      await expect(bounded.authenticate('ada@example.com', PASSWORD)).rejects.toThrow(LimiterFullError)
      release()
      await busy
      expect(await bounded.authenticate('ada@example.com', PASSWORD)).toEqual({ ok: true, user: ada })
    })

    it('looks the user up outside the slot: a store that hangs holds no slot from other logins', async () => {
      const passwordWork = new ConcurrencyLimiter(1, 0)
      const users = new MemoryUserStore([ada])
      const hanging = {
        findByUsername: (username: string) => username === 'hung@example.com' ? new Promise<undefined>(() => {}) : users.findByUsername(username),
        updatePasswordHash: users.updatePasswordHash.bind(users)
      }
      const bounded = await Authenticator.create(hanging, { passwordWork })
      bounded.authenticate('hung@example.com', PASSWORD).catch(() => {})
      expect(passwordWork.running).toBe(0)
      expect(await bounded.authenticate('ada@example.com', PASSWORD)).toEqual({ ok: true, user: ada })
    })
  })
})
