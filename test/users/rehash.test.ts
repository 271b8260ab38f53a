import argon2, { type HashOptions } from 'argon2'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Logger } from '../../src/logger.js'
import { Authenticator } from '../../src/users/authenticator.js'
import { ARGON2_OPTIONS, needsRehash, verifyPassword } from '../../src/users/password.js'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { MemoryUserStore, type UserAdmin, type UserStore } from '../../src/users/user-store.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'

const PASSWORD = 'correct horse battery staple'
const CURRENT = { m: ARGON2_OPTIONS.memoryCost, t: ARGON2_OPTIONS.timeCost }

function hashWith (options: HashOptions): Promise<string> {
  return argon2.hash(PASSWORD, { ...ARGON2_OPTIONS, ...options })
}

function paramsOf (hash: string): { type: string, m: number, t: number } {
  const [, type, , params] = hash.split('$')
  const values = Object.fromEntries(params!.split(',').map((pair) => pair.split('=')))
  return { type: type!, m: Number(values.m), t: Number(values.t) }
}

function recordingLogger (): Logger & { lines: Array<{ level: string, details: object, message: string }> } {
  const lines: Array<{ level: string, details: object, message: string }> = []
  return {
    lines,
    debug: (details, message) => { lines.push({ level: 'debug', details, message }) },
    info: (details, message) => { lines.push({ level: 'info', details, message }) },
    warn: (details, message) => { lines.push({ level: 'warn', details, message }) }
  }
}

describe('needsRehash', () => {
  it('is false for a hash made with the current parameters', async () => {
    expect(needsRehash(await hashWith({}))).toBe(false)
  })

  it('is true for less memory, fewer passes or another variant', async () => {
    expect(needsRehash(await hashWith({ memoryCost: 4096 }))).toBe(true)
    expect(needsRehash(await hashWith({ timeCost: 1 }))).toBe(true)
    expect(needsRehash(await hashWith({ type: argon2.argon2i }))).toBe(true)
    expect(needsRehash('$argon2i$m=4096,t=3,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A')).toBe(true)
  })

  it('is false for a stronger hash, which a rehash would weaken', async () => {
    expect(needsRehash(await hashWith({ memoryCost: 32 * 1024, timeCost: 3 }))).toBe(false)
  })

  it('is false for what is not an argon2 hash', () => {
    expect(needsRehash('not-a-hash')).toBe(false)
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(false)
  })
})

/** The same rehash checks over each store the server can use. */
function describeRehash (name: string, makeStore: () => Promise<UserAdmin>): void {
  describe(`rehash on login (${name})`, () => {
    it('replaces a hash made with weaker parameters after a successful login', async () => {
      const store = await makeStore()
      const weak = await hashWith({ memoryCost: 4096, timeCost: 1 })
      await store.add('ada@example.com', weak)
      const log = recordingLogger()
      const authenticator = await Authenticator.create(store, { log })

      expect(await authenticator.authenticate('ada@example.com', PASSWORD)).toMatchObject({ ok: true })

      const stored = (await store.findByUsername('ada@example.com'))!.passwordHash
      expect(stored).not.toBe(weak)
      expect(paramsOf(stored)).toEqual({ type: 'argon2id', ...CURRENT })
      expect(await verifyPassword(stored, PASSWORD)).toBe(true)
      expect(needsRehash(stored)).toBe(false)
      expect(log.lines).toEqual([{ level: 'info', details: { username: 'ada@example.com' }, message: expect.stringContaining('upgraded') }])
      expect(JSON.stringify(log.lines)).not.toContain(PASSWORD)
      // And the next login keeps the new hash.
      expect(await authenticator.authenticate('ada@example.com', PASSWORD)).toMatchObject({ ok: true })
      expect((await store.findByUsername('ada@example.com'))!.passwordHash).toBe(stored)
    })

    it('replaces an argon2i hash by an argon2id one', async () => {
      const store = await makeStore()
      await store.add('ada@example.com', await hashWith({ type: argon2.argon2i }))
      const authenticator = await Authenticator.create(store)
      await authenticator.authenticate('ada@example.com', PASSWORD)
      expect(paramsOf((await store.findByUsername('ada@example.com'))!.passwordHash).type).toBe('argon2id')
    })

    it('leaves the hash alone after a wrong password', async () => {
      const store = await makeStore()
      const weak = await hashWith({ memoryCost: 4096, timeCost: 1 })
      await store.add('ada@example.com', weak)
      const authenticator = await Authenticator.create(store)
      expect(await authenticator.authenticate('ada@example.com', 'wrong password')).toMatchObject({ ok: false, reason: 'wrong-password' })
      expect((await store.findByUsername('ada@example.com'))!.passwordHash).toBe(weak)
    })

    it('leaves current and stronger hashes alone', async () => {
      const store = await makeStore()
      const current = await hashWith({})
      const strong = await hashWith({ memoryCost: 32 * 1024, timeCost: 3 })
      await store.add('ada@example.com', current)
      await store.add('grace@example.com', strong)
      const authenticator = await Authenticator.create(store)
      await authenticator.authenticate('ada@example.com', PASSWORD)
      await authenticator.authenticate('grace@example.com', PASSWORD)
      expect((await store.findByUsername('ada@example.com'))!.passwordHash).toBe(current)
      expect((await store.findByUsername('grace@example.com'))!.passwordHash).toBe(strong)
    })

    it('refuses a disabled user, with a weak hash or not, and does not rehash it', async () => {
      const store = await makeStore()
      const weak = await hashWith({ memoryCost: 4096, timeCost: 1 })
      await store.add('ada@example.com', weak)
      await store.setDisabled('ada@example.com', true)
      const authenticator = await Authenticator.create(store)
      expect(await authenticator.authenticate('ada@example.com', PASSWORD)).toEqual({ ok: false, reason: 'unknown-user' })
      await store.setDisabled('ada@example.com', false)
      expect((await store.findByUsername('ada@example.com'))!.passwordHash).toBe(weak)
    })
  })
}

describeRehash('MemoryUserStore', async () => new MemoryUserStore([]))

let schema: TestSchema
beforeAll(async () => { schema = await createTestSchema() })
afterAll(async () => { await schema.drop() })

describeRehash('PostgresUserStore', async () => {
  const store = new PostgresUserStore({ connectionString: schema.url })
  onTestFinished(() => store.close())
  await store.migrate()
  await schema.query('TRUNCATE users')
  return store
})

describe('rehash on login, when the store fails', () => {
  it('still lets the user in when the new hash cannot be stored, and logs nothing secret', async () => {
    const weak = await hashWith({ memoryCost: 4096, timeCost: 1 })
    const failing: UserStore = {
      findByUsername: async () => ({ username: 'ada@example.com', passwordHash: weak }),
      updatePasswordHash: async () => { throw new Error('connection lost') }
    }
    const log = recordingLogger()
    const authenticator = await Authenticator.create(failing, { log })
    expect(await authenticator.authenticate('ada@example.com', PASSWORD)).toEqual({ ok: true, user: { username: 'ada@example.com', passwordHash: weak } })
    expect(log.lines).toEqual([{ level: 'warn', details: { username: 'ada@example.com', reason: 'connection lost' }, message: expect.any(String) }])
    expect(JSON.stringify(log.lines)).not.toContain(PASSWORD)
    expect(JSON.stringify(log.lines)).not.toContain('$argon2')
  })

  it('does not undo a password change made between the lookup and the rehash', async () => {
    const store = new MemoryUserStore([{ username: 'ada@example.com', passwordHash: await hashWith({ memoryCost: 4096, timeCost: 1 }) }])
    const changed = await hashWith({})
    const racing: UserStore = {
      findByUsername: async (username) => {
        const user = await store.findByUsername(username)
        await store.setPassword(username, changed)
        return user
      },
      updatePasswordHash: (username, update) => store.updatePasswordHash(username, update)
    }
    const authenticator = await Authenticator.create(racing)
    expect(await authenticator.authenticate('ada@example.com', PASSWORD)).toMatchObject({ ok: true })
    expect((await store.findByUsername('ada@example.com'))!.passwordHash).toBe(changed)
  })
})
