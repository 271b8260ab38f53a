import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { digestToken, generateToken, isTokenShaped, sessionIdOf, TOKEN_LENGTH } from '../../../src/tokens/token.js'

const URL_SAFE = /^[A-Za-z0-9_-]+$/
const BASE64URL_SHA256 = /^[A-Za-z0-9_-]{43}$/

describe('token', () => {
  describe('generateToken', () => {
    it('gives 32 characters of the URL-safe alphabet', () => {
      expect(TOKEN_LENGTH).toBe(32)
      const token = generateToken()
      expect(token).toHaveLength(32)
      expect(token).toMatch(URL_SAFE)
    })

    it('never uses characters outside the URL-safe alphabet (no +, /, = or padding)', () => {
      const seen = new Set(Array.from({ length: 2000 }, generateToken).join(''))
      for (const char of seen) expect(char).toMatch(/^[A-Za-z0-9_-]$/)
      expect(seen.has('+')).toBe(false)
      expect(seen.has('/')).toBe(false)
      expect(seen.has('=')).toBe(false)
    })

    it('draws from the whole 64-letter alphabet (6 bits a character, 192 bits a token)', () => {
      const seen = new Set(Array.from({ length: 2000 }, generateToken).join(''))
      expect(seen.size).toBe(64)
    })

    it('never repeats itself over 10,000 draws', () => {
      const tokens = new Set(Array.from({ length: 10_000 }, generateToken))
      expect(tokens.size).toBe(10_000)
    })

    it('always gives a token that isTokenShaped accepts', () => {
      for (let i = 0; i < 1000; i++) expect(isTokenShaped(generateToken())).toBe(true)
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
      const token = generateToken()
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
      const token = generateToken()
      expect(isTokenShaped(` ${token}`)).toBe(false)
      expect(isTokenShaped(`${token} `)).toBe(false)
      expect(isTokenShaped(`${token}\n`)).toBe(false)
      expect(isTokenShaped(`Bearer ${token}`)).toBe(false)
    })
  })

  describe('digestToken', () => {
    it('is deterministic', () => {
      const token = generateToken()
      expect(digestToken(token)).toBe(digestToken(token))
    })

    it('differs for different tokens', () => {
      expect(digestToken(generateToken())).not.toBe(digestToken(generateToken()))
      const token = generateToken()
      const other = `${token.slice(0, 31)}${token.endsWith('A') ? 'B' : 'A'}`
      expect(digestToken(token)).not.toBe(digestToken(other))
    })

    it('is the SHA-256 of the token in base64url: 43 characters, no padding', () => {
      const token = generateToken()
      const digest = digestToken(token)
      expect(digest).toMatch(BASE64URL_SHA256)
      expect(digest).toBe(createHash('sha256').update(token, 'utf8').digest('base64url'))
      expect(Buffer.from(digest, 'base64url')).toHaveLength(32)
    })

    it('matches a known SHA-256 value', () => {
      // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
      const expected = Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url')
      expect(digestToken('abc')).toBe(expected)
    })

    it('is not the token, nor contains it', () => {
      const token = generateToken()
      const digest = digestToken(token)
      expect(digest).not.toBe(token)
      expect(digest).not.toContain(token)
      expect(digest).not.toMatch(/[+/=]/)
    })
  })

  describe('sessionIdOf', () => {
    it('is the first 16 characters of the digest', () => {
      const digest = digestToken(generateToken())
      const id = sessionIdOf(digest)
      expect(id).toHaveLength(16)
      expect(digest.startsWith(id)).toBe(true)
      expect(id).toMatch(URL_SAFE)
    })

    it('is stable for one digest and differs between tokens', () => {
      const digest = digestToken(generateToken())
      expect(sessionIdOf(digest)).toBe(sessionIdOf(digest))
      const ids = new Set(Array.from({ length: 1000 }, () => sessionIdOf(digestToken(generateToken()))))
      expect(ids.size).toBe(1000)
    })

    it('is neither the token, nor the digest, nor a part of the token', () => {
      const token = generateToken()
      const digest = digestToken(token)
      const id = sessionIdOf(digest)
      expect(id).not.toBe(digest)
      expect(token).not.toContain(id)
      expect(id).not.toContain(token)
      expect(id).not.toBe(token.slice(0, 16))
    })
  })
})
