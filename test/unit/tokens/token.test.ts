import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  digestToken, generateToken, isTokenShaped, ROUTING_TAG_LENGTH, routingTagOf, routingTagOfDigest, sessionIdOf, TOKEN_LENGTH
} from '../../../src/tokens/token.js'

const URL_SAFE = /^[A-Za-z0-9_-]+$/
const BASE64URL_SHA256 = /^[A-Za-z0-9_-]{43}$/

/** A new token of one user, or of the n-th of many. */
const newToken = (n = 0) => generateToken(`user${n}@example.com`)
const manyUsersTokens = (count: number) => Array.from({ length: count }, (_, n) => newToken(n))

describe('token', () => {
  describe('generateToken', () => {
    it('gives 32 characters of the URL-safe alphabet', () => {
      expect(TOKEN_LENGTH).toBe(32)
      const token = newToken()
      expect(token).toHaveLength(32)
      expect(token).toMatch(URL_SAFE)
    })

    it('never uses characters outside the URL-safe alphabet (no +, /, = or padding)', () => {
      const seen = new Set(manyUsersTokens(2000).join(''))
      for (const char of seen) expect(char).toMatch(/^[A-Za-z0-9_-]$/)
      expect(seen.has('+')).toBe(false)
      expect(seen.has('/')).toBe(false)
      expect(seen.has('=')).toBe(false)
    })

    it('draws the 28 characters after its routing tag from the whole 64-letter alphabet (6 bits a character, 168 bits a token)', () => {
      expect(TOKEN_LENGTH - ROUTING_TAG_LENGTH).toBe(28)
      const seen = new Set(Array.from({ length: 2000 }, () => newToken().slice(ROUTING_TAG_LENGTH)).join(''))
      expect(seen.size).toBe(64)
    })

    it('never repeats itself over 10,000 draws for one user', () => {
      const tokens = new Set(Array.from({ length: 10_000 }, () => newToken()))
      expect(tokens.size).toBe(10_000)
    })

    it('always gives a token that isTokenShaped accepts', () => {
      for (const token of manyUsersTokens(1000)) expect(isTokenShaped(token)).toBe(true)
    })

    it('begins with its user\'s routing tag: the same for every token of a user', () => {
      const tag = routingTagOf('ada@example.com')
      expect(tag).toMatch(/^[A-Za-z0-9_-]{4}$/)
      for (let i = 0; i < 100; i++) expect(generateToken('ada@example.com').slice(0, ROUTING_TAG_LENGTH)).toBe(tag)
      expect(routingTagOf('ada@example.com')).toBe(createHash('sha256').update('ada@example.com').digest('base64url').slice(0, 4))
    })

    it('spreads users over routing tags', () => {
      const tags = new Set(Array.from({ length: 1000 }, (_, n) => routingTagOf(`user${n}@example.com`)))
      expect(tags.size).toBeGreaterThan(990)
    })
  })

  describe('isTokenShaped', () => {
    it('accepts 32 URL-safe characters', () => {
      expect(isTokenShaped('A'.repeat(32))).toBe(true)
      expect(isTokenShaped('abcdefghijklmnopqrstuvwxyz012345')).toBe(true)
      expect(isTokenShaped('ABCDEFGHIJKLMNOPQRSTUVWXYZ6789_-')).toBe(true)
      expect(isTokenShaped('-'.repeat(32))).toBe(true)
    })

    it('refuses the empty string', () => {
      expect(isTokenShaped('')).toBe(false)
    })

    it('refuses a wrong length', () => {
      const token = newToken()
      expect(isTokenShaped(token.slice(0, 31))).toBe(false)
      expect(isTokenShaped(`${token}A`)).toBe(false)
      expect(isTokenShaped(token + token)).toBe(false)
      expect(isTokenShaped('A')).toBe(false)
    })

    it.each([
      ['a space', ' '],
      ['a plus', '+'],
      ['a slash', '/'],
      ['padding', '='],
      ['a dot', '.'],
      ['a non-ASCII letter', 'é'],
      ['a NUL', '\0'],
      ['a line break', '\n']
    ])('refuses 32 characters containing %s', (_case, char) => {
      expect(isTokenShaped(`${'A'.repeat(31)}${char}`)).toBe(false)
      expect(isTokenShaped(`${char}${'A'.repeat(31)}`)).toBe(false)
    })

    it('refuses a valid token with surrounding whitespace or a trailing line break', () => {
      const token = newToken()
      expect(isTokenShaped(` ${token}`)).toBe(false)
      expect(isTokenShaped(`${token} `)).toBe(false)
      expect(isTokenShaped(`${token}\n`)).toBe(false)
      expect(isTokenShaped(`Bearer ${token}`)).toBe(false)
    })
  })

  describe('digestToken', () => {
    it('is deterministic', () => {
      const token = newToken()
      expect(digestToken(token)).toBe(digestToken(token))
    })

    it('differs for different tokens', () => {
      expect(digestToken(newToken())).not.toBe(digestToken(newToken()))
      const token = newToken()
      const other = `${token.slice(0, 31)}${token.endsWith('A') ? 'B' : 'A'}`
      expect(digestToken(token)).not.toBe(digestToken(other))
    })

    it('is the SHA-256 of the token in base64url (43 characters, no padding), then the token\'s routing tag', () => {
      const token = newToken()
      const digest = digestToken(token)
      const sha256 = digest.slice(0, -ROUTING_TAG_LENGTH)
      expect(sha256).toMatch(BASE64URL_SHA256)
      expect(sha256).toBe(createHash('sha256').update(token, 'utf8').digest('base64url'))
      expect(Buffer.from(sha256, 'base64url')).toHaveLength(32)
      expect(routingTagOfDigest(digest)).toBe(routingTagOf('user0@example.com'))
      expect(routingTagOfDigest(digest)).toBe(token.slice(0, ROUTING_TAG_LENGTH))
    })

    it('matches a known SHA-256 value', () => {
      // SHA-256("abcd") = 88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589
      const expected = Buffer.from('88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589', 'hex').toString('base64url')
      expect(digestToken('abcd')).toBe(`${expected}abcd`)
    })

    it('is not the token, nor contains it', () => {
      const token = newToken()
      const digest = digestToken(token)
      expect(digest).not.toBe(token)
      expect(digest).not.toContain(token)
      expect(digest).not.toMatch(/[+/=]/)
    })
  })

  describe('sessionIdOf', () => {
    it('is the first 16 characters of the digest', () => {
      const digest = digestToken(newToken())
      const id = sessionIdOf(digest)
      expect(id).toHaveLength(16)
      expect(digest.startsWith(id)).toBe(true)
      expect(id).toMatch(URL_SAFE)
    })

    it('is stable for one digest and differs between tokens', () => {
      const digest = digestToken(newToken())
      expect(sessionIdOf(digest)).toBe(sessionIdOf(digest))
      const ids = new Set(Array.from({ length: 1000 }, () => sessionIdOf(digestToken(newToken()))))
      expect(ids.size).toBe(1000)
    })

    it('is neither the token, nor the digest, nor a part of the token', () => {
      const token = newToken()
      const digest = digestToken(token)
      const id = sessionIdOf(digest)
      expect(id).not.toBe(digest)
      expect(token).not.toContain(id)
      expect(id).not.toContain(token)
      expect(id).not.toBe(token.slice(0, 16))
    })
  })
})
