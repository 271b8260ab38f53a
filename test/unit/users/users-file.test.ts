import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARGON2_PHC_PATTERN, verifyPassword } from '../../../src/users/password.js'
import { DEMO_PASSWORD, DEMO_USERNAME, demoUsers, loadUsersFile } from '../../../src/users/users-file.js'

/** argon2id of 'x', with the service's parameters. */
const HASH_OF_X = '$argon2id$v=19$m=19456,p=1,t=2$myw/rHReVvX/HcNcpFczCQ$jQOUAI6uYeIWQ4nmWAEngA7ygvEWMJRWVOZkW7cZMro'

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-file-'))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Writes `content` (text as is, anything else as JSON) to a new file of the temp dir and returns its path. */
function usersFile (name: string, content: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return path
}

/** The message of the Error that loadUsersFile rejects with. */
async function loadError (path: string): Promise<string> {
  const err = await loadUsersFile(path).then(
    () => { throw new Error(`loadUsersFile accepted ${path}`) },
    (err: unknown) => err
  )
  expect(err).toBeInstanceOf(Error)
  return (err as Error).message
}

describe('users-file', () => {
  describe('loadUsersFile', () => {
    it('gives the users of a valid file', async () => {
      const users = [
        { username: 'ada@example.com', passwordHash: HASH_OF_X },
        { username: 'grace@example.org', passwordHash: HASH_OF_X }
      ]
      expect(await loadUsersFile(usersFile('valid.json', users))).toEqual(users)
    })

    it('keeps the hash intact, so the password still verifies', async () => {
      const [user] = await loadUsersFile(usersFile('verify.json', [{ username: 'ada@example.com', passwordHash: HASH_OF_X }]))
      expect(user?.passwordHash).toBe(HASH_OF_X)
      expect(await verifyPassword(user?.passwordHash ?? '', 'x')).toBe(true)
    })

    it('accepts an empty list', async () => {
      expect(await loadUsersFile(usersFile('empty-list.json', []))).toEqual([])
    })

    it('accepts argon2i and argon2d hashes as well', async () => {
      const users = [
        { username: 'ada@example.com', passwordHash: HASH_OF_X.replace('$argon2id$', '$argon2i$') },
        { username: 'grace@example.org', passwordHash: HASH_OF_X.replace('$argon2id$', '$argon2d$') }
      ]
      expect(await loadUsersFile(usersFile('variants.json', users))).toEqual(users)
    })

    it('rejects a missing file, naming it', async () => {
      const path = join(dir, 'does-not-exist.json')
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('USERS_FILE')
      expect(message).toMatch(/ENOENT|no such file/)
    })

    it('rejects a directory, naming it', async () => {
      const path = join(dir, 'a-directory')
      mkdirSync(path)
      expect(await loadError(path)).toContain(path)
    })

    it.each([
      ['invalid JSON', '[{"username": "ada@example.com",'],
      ['an empty file', ''],
      ['a JSON comment', '// users\n[]']
    ])('rejects %s, naming the file', async (_case, content) => {
      const path = usersFile(`invalid-${_case.replaceAll(' ', '-')}.json`, content)
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('USERS_FILE')
    })

    it.each<[string, unknown]>([
      ['an object', { username: 'ada@example.com', passwordHash: HASH_OF_X }],
      ['null', null],
      ['a string', 'ada@example.com'],
      ['a number', 42]
    ])('rejects a file holding %s instead of an array, naming the file', async (_case, content) => {
      const path = usersFile(`not-array-${_case.replaceAll(' ', '-')}.json`, JSON.stringify(content))
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toMatch(/array/)
    })

    it('rejects an entry without passwordHash, naming the file, the entry and the property', async () => {
      const path = usersFile('no-hash.json', [
        { username: 'ada@example.com', passwordHash: HASH_OF_X },
        { username: 'grace@example.org' }
      ])
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('/1')
      expect(message).toContain('passwordHash')
    })

    it('rejects an entry without username', async () => {
      const message = await loadError(usersFile('no-username.json', [{ passwordHash: HASH_OF_X }]))
      expect(message).toContain('username')
    })

    it.each([
      ['a bare name', 'ada'],
      ['a name with a space', 'ada lovelace@example.com'],
      ['an empty string', ''],
      ['a domain alone', '@example.com']
    ])('rejects a username that is not an email (%s), naming the file and the property', async (_case, username) => {
      const path = usersFile(`not-email-${_case.replaceAll(' ', '-')}.json`, [{ username, passwordHash: HASH_OF_X }])
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('/0/username')
    })

    it('rejects a username that is not a string', async () => {
      const message = await loadError(usersFile('username-number.json', [{ username: 42, passwordHash: HASH_OF_X }]))
      expect(message).toContain('/0/username')
    })

    it.each([
      ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['a plain-text password', 'postman'],
      ['a hex SHA-256', '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'],
      ['an empty string', '']
    ])('rejects a hash that is not argon2 (%s), naming the file and the property', async (_case, passwordHash) => {
      const path = usersFile(`not-argon2-${_case.replaceAll(' ', '-')}.json`, [{ username: 'ada@example.com', passwordHash }])
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('/0/passwordHash')
    })

    it('never puts a plain-text password given as a hash into the message', async () => {
      const message = await loadError(usersFile('plain-secret.json', [{ username: 'ada@example.com', passwordHash: 'Tr0ub4dor&3-secret' }]))
      expect(message).not.toContain('Tr0ub4dor&3-secret')
    })

    it('rejects an extra property, naming the file and the property', async () => {
      const path = usersFile('extra.json', [{ username: 'ada@example.com', passwordHash: HASH_OF_X, role: 'admin' }])
      const message = await loadError(path)
      expect(message).toContain(path)
      expect(message).toContain('role')
    })

    it('rejects a plain-text password property beside the hash', async () => {
      const path = usersFile('extra-password.json', [{ username: 'ada@example.com', passwordHash: HASH_OF_X, password: 'x' }])
      expect(await loadError(path)).toContain('password')
    })
  })

  describe('demoUsers', () => {
    it('gives the demo user alone: jsf.fusco@gmail.com / postman', async () => {
      expect(DEMO_USERNAME).toBe('jsf.fusco@gmail.com')
      expect(DEMO_PASSWORD).toBe('postman')
      const users = await demoUsers()
      expect(users).toHaveLength(1)
      const [user] = users
      expect(user?.username).toBe('jsf.fusco@gmail.com')
      expect(user?.passwordHash).toMatch(new RegExp(ARGON2_PHC_PATTERN))
      expect(user?.passwordHash).toMatch(/^\$argon2id\$/)
      expect(user?.passwordHash).not.toContain('postman')

      const hash = user?.passwordHash ?? ''
      expect(await verifyPassword(hash, 'postman')).toBe(true)
      expect(await verifyPassword(hash, 'Postman')).toBe(false)

      // What demoUsers gives is a valid USERS_FILE.
      expect(await loadUsersFile(usersFile('demo.json', users))).toEqual(users)
    })
  })
})
