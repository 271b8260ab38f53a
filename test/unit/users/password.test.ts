import { beforeAll, describe, expect, it } from 'vitest'
import { ARGON2_OPTIONS, ARGON2_PHC_PATTERN, createDummyHash, hashPassword, verifyPassword } from '../../../src/users/password.js'

const PHC = new RegExp(ARGON2_PHC_PATTERN)
const PASSWORD = 'correct horse battery staple'

/** The parts of a PHC string: `$id$v=..$m=..,t=..,p=..$salt$hash`, parameters in whatever order argon2 writes them. */
function parsePhc (phc: string): { id: string, version: string, params: Record<string, string>, salt: string, hash: string } {
  const [empty, id, version, params, salt, hash, ...rest] = phc.split('$')
  expect(empty).toBe('')
  expect(rest).toEqual([])
  return {
    id: id ?? '',
    version: version ?? '',
    params: Object.fromEntries((params ?? '').split(',').map((pair) => pair.split('='))),
    salt: salt ?? '',
    hash: hash ?? ''
  }
}

let hash: string

beforeAll(async () => {
  hash = await hashPassword(PASSWORD)
})

describe('password', () => {
  describe('ARGON2_OPTIONS', () => {
    it("is argon2id with OWASP's first setting: 19 MiB, 2 passes, 1 lane", () => {
      expect(ARGON2_OPTIONS).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
    })
  })

  describe('hashPassword', () => {
    it('gives an argon2id PHC string that ARGON2_PHC_PATTERN accepts', () => {
      expect(hash).toMatch(/^\$argon2id\$/)
      expect(hash).toMatch(PHC)
    })

    it('records m=19456, t=2, p=1 and version 19 in the hash', () => {
      const phc = parsePhc(hash)
      expect(phc.id).toBe('argon2id')
      expect(phc.version).toBe('v=19')
      expect(phc.params).toEqual({ m: '19456', t: '2', p: '1' })
    })

    it('uses a 16-byte salt and a 32-byte output', () => {
      const phc = parsePhc(hash)
      expect(Buffer.from(phc.salt, 'base64')).toHaveLength(16)
      expect(Buffer.from(phc.hash, 'base64')).toHaveLength(32)
    })

    it('never contains the password', () => {
      expect(hash).not.toContain(PASSWORD)
    })

    it('salts: the same password hashes differently each time', async () => {
      const again = await hashPassword(PASSWORD)
      expect(again).not.toBe(hash)
      expect(parsePhc(again).salt).not.toBe(parsePhc(hash).salt)
      expect(await verifyPassword(again, PASSWORD)).toBe(true)
    })
  })

  describe('ARGON2_PHC_PATTERN', () => {
    it('accepts argon2id, argon2i and argon2d PHC strings', () => {
      expect(hash).toMatch(PHC)
      expect(hash.replace('$argon2id$', '$argon2i$')).toMatch(PHC)
      expect(hash.replace('$argon2id$', '$argon2d$')).toMatch(PHC)
    })

    it.each([
      ['a plain password', 'postman'],
      ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
      ['a hex SHA-256', '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'],
      ['an unknown argon2 variant', '$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'],
      ['an argon2 string without its hash', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ'],
      ['the empty string', '']
    ])('refuses %s', (_case, value) => {
      expect(value).not.toMatch(PHC)
    })
  })

  describe('verifyPassword', () => {
    it('is true for the password that was hashed', async () => {
      expect(await verifyPassword(hash, PASSWORD)).toBe(true)
    })

    it('is false for another password', async () => {
      expect(await verifyPassword(hash, 'wrong password')).toBe(false)
    })

    it('is false for a password differing only by case or by trailing whitespace', async () => {
      expect(await verifyPassword(hash, PASSWORD.toUpperCase())).toBe(false)
      expect(await verifyPassword(hash, `${PASSWORD} `)).toBe(false)
    })

    it('is false for the empty password', async () => {
      expect(await verifyPassword(hash, '')).toBe(false)
    })

    it.each([
      ['garbage', 'not-a-hash'],
      ['the empty string', ''],
      ['a truncated argon2 string', '$argon2id$v=19$m=19456,t=2,p=1$bad'],
      ['a bcrypt hash', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy']
    ])('resolves false, never rejects, for a malformed hash (%s)', async (_case, malformed) => {
      await expect(verifyPassword(malformed, PASSWORD)).resolves.toBe(false)
    })

    it('resolves false for a hash whose encoded value was tampered with', async () => {
      // Change a character in the middle of the output (the last one may carry only padding bits).
      const i = hash.length - 10
      const tampered = `${hash.slice(0, i)}${hash[i] === 'A' ? 'B' : 'A'}${hash.slice(i + 1)}`
      expect(tampered).toMatch(PHC)
      await expect(verifyPassword(tampered, PASSWORD)).resolves.toBe(false)
    })
  })

  describe('createDummyHash', () => {
    let dummy: string

    beforeAll(async () => {
      dummy = await createDummyHash()
    })

    it('gives an argon2id hash with the same parameters as real hashes, so it costs the same to verify', () => {
      expect(dummy).toMatch(PHC)
      expect(parsePhc(dummy).id).toBe('argon2id')
      expect(parsePhc(dummy).params).toEqual(parsePhc(hash).params)
    })

    it('differs on each call', async () => {
      const other = await createDummyHash()
      expect(other).not.toBe(dummy)
      expect(parsePhc(other).hash).not.toBe(parsePhc(dummy).hash)
    })

    it.each(['', 'password', 'postman', '123456'])('verifies no common password (%j)', async (common) => {
      expect(await verifyPassword(dummy, common)).toBe(false)
    })
  })
})
