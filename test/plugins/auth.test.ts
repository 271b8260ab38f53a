import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/users/password.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, getData, login, loginToken } from '../helpers/build-app.js'

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32}$/

/** Fastify's error shape: statusCode, error, message (and Fastify's optional code), nothing else. */
function expectErrorShape (response: LightMyRequestResponse, statusCode: number): Record<string, unknown> {
  expect(response.statusCode).toBe(statusCode)
  expect(response.headers['content-type']).toMatch(/^application\/json/)
  const body = response.json<Record<string, unknown>>()
  expect(body).toEqual(expect.objectContaining({
    statusCode,
    error: expect.any(String),
    message: expect.any(String)
  }))
  for (const key of Object.keys(body)) expect(['statusCode', 'code', 'error', 'message']).toContain(key)
  return body
}

function validate (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/validateToken', payload: { token } })
}

interface SessionBody {
  id: string
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  refreshCount: number
  current: boolean
}

function sessions (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${token}` } })
}

describe('POST /auth/login', () => {
  it('answers 200 with a Bearer token, its lifetime and Cache-Control: no-store', async () => {
    const { app } = await buildTestApp()
    const response = await login(app)
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const body = response.json<Record<string, unknown>>()
    expect(Object.keys(body).sort()).toEqual(['expiresIn', 'token', 'tokenType'])
    expect(body).toEqual({ token: expect.any(String), tokenType: 'Bearer', expiresIn: 30 })
  })

  it('gives a 32-character URL-safe token, a new one at each login', async () => {
    const { app } = await buildTestApp()
    const first = await loginToken(app)
    const second = await loginToken(app)
    expect(first).toMatch(TOKEN_SHAPE)
    expect(second).toMatch(TOKEN_SHAPE)
    expect(second).not.toBe(first)
  })

  it('answers expiresIn from TOKEN_TTL_SECONDS', async () => {
    const { app } = await buildTestApp({ config: { TOKEN_TTL_SECONDS: 45 } })
    expect((await login(app)).json()).toMatchObject({ expiresIn: 45 })
  })

  it('treats the username without regard to case', async () => {
    const { app } = await buildTestApp()
    const response = await login(app, DEMO_USERNAME.toUpperCase())
    expect(response.statusCode).toBe(200)
    const token = response.json<{ token: string }>().token
    const data = await getData(app, token)
    expect(data.statusCode).toBe(200)
    expect(data.json()).toMatchObject({ data: { user: DEMO_USERNAME } })
  })

  it('treats the password with regard to case', async () => {
    const { app } = await buildTestApp()
    expectErrorShape(await login(app, DEMO_USERNAME, DEMO_PASSWORD.toUpperCase()), 401)
  })

  it('answers 401 with the same body for an unknown user and a wrong password', async () => {
    const { app } = await buildTestApp()
    const unknown = await login(app, 'nobody@example.com', DEMO_PASSWORD)
    const wrong = await login(app, DEMO_USERNAME, 'not-the-password')
    expectErrorShape(unknown, 401)
    expectErrorShape(wrong, 401)
    expect(unknown.body).toBe(wrong.body)
    expect(unknown.headers['content-type']).toBe(wrong.headers['content-type'])
    expect(unknown.json()).not.toHaveProperty('token')
  })

  describe('answers 400 in the error shape', () => {
    const cases: Array<[string, { payload?: string, headers?: Record<string, string> }]> = [
      ['no body', {}],
      ['no body with Content-Type: application/json', { headers: { 'content-type': 'application/json' } }],
      ['a text/plain body', { payload: `username=${DEMO_USERNAME}&password=${DEMO_PASSWORD}`, headers: { 'content-type': 'text/plain' } }],
      ['a text/plain body holding JSON', { payload: JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD }), headers: { 'content-type': 'text/plain' } }],
      ['a form body', { payload: `username=${encodeURIComponent(DEMO_USERNAME)}&password=${DEMO_PASSWORD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      ['invalid JSON', { payload: '{"username": "jsf.fusco@gmail.com", "password": ', headers: { 'content-type': 'application/json' } }],
      ['a JSON array', { payload: '[]', headers: { 'content-type': 'application/json' } }],
      ['a missing password', { payload: JSON.stringify({ username: DEMO_USERNAME }), headers: { 'content-type': 'application/json' } }],
      ['a missing username', { payload: JSON.stringify({ password: DEMO_PASSWORD }), headers: { 'content-type': 'application/json' } }],
      ['an empty username', { payload: JSON.stringify({ username: '', password: DEMO_PASSWORD }), headers: { 'content-type': 'application/json' } }],
      ['an empty password', { payload: JSON.stringify({ username: DEMO_USERNAME, password: '' }), headers: { 'content-type': 'application/json' } }],
      ['a number as password', { payload: JSON.stringify({ username: DEMO_USERNAME, password: 12345 }), headers: { 'content-type': 'application/json' } }],
      ['a number as username', { payload: JSON.stringify({ username: 12345, password: DEMO_PASSWORD }), headers: { 'content-type': 'application/json' } }],
      ['a null password', { payload: JSON.stringify({ username: DEMO_USERNAME, password: null }), headers: { 'content-type': 'application/json' } }],
      ['a username over 254 characters', { payload: JSON.stringify({ username: `${'a'.repeat(245)}@example.com`, password: DEMO_PASSWORD }), headers: { 'content-type': 'application/json' } }],
      ['a password over 1024 characters', { payload: JSON.stringify({ username: DEMO_USERNAME, password: 'p'.repeat(1025) }), headers: { 'content-type': 'application/json' } }],
      // No email address holds a control character (and PostgreSQL cannot store U+0000).
      ...['\u0000', '\t', '\n', '\u001b', '\u007f', '\u0085'].map((char): [string, { payload: string, headers: Record<string, string> }] => [
        `a username holding U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
        { payload: JSON.stringify({ username: `jsf.fusco${char}@gmail.com`, password: DEMO_PASSWORD }), headers: { 'content-type': 'application/json' } }
      ])
    ]

    it.each(cases)('for %s', async (_name, request) => {
      const { app } = await buildTestApp()
      const response = await app.inject({ method: 'POST', url: '/auth/login', ...request })
      expectErrorShape(response, 400)
    })
  })

  it('accepts a username of 254 characters and a password of 1024 (401, not 400)', async () => {
    const { app } = await buildTestApp()
    const username = `${'a'.repeat(242)}@example.com`
    expect(username).toHaveLength(254)
    expectErrorShape(await login(app, username, 'p'.repeat(1024)), 401)
  })

  it('accepts application/json with a charset', async () => {
    const { app } = await buildTestApp()
    const response = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD })
    })
    expect(response.statusCode).toBe(200)
  })

  describe('POST /login (the original path)', () => {
    function normalized (response: LightMyRequestResponse) {
      const body = response.json<Record<string, unknown>>()
      if (typeof body.token === 'string') body.token = '<token>'
      return { statusCode: response.statusCode, cacheControl: response.headers['cache-control'], contentType: response.headers['content-type'], body }
    }

    const requests: Array<[string, Pick<InjectOptions, 'payload' | 'headers'>]> = [
      ['valid credentials', { payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } }],
      ['a wrong password', { payload: { username: DEMO_USERNAME, password: 'wrong' } }],
      ['an unknown user', { payload: { username: 'nobody@example.com', password: DEMO_PASSWORD } }],
      ['a missing field', { payload: { username: DEMO_USERNAME } }],
      ['a form body', { payload: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      ['invalid JSON', { payload: '{"username"', headers: { 'content-type': 'application/json' } }]
    ]

    it.each(requests)('answers exactly as /auth/login for %s', async (_name, request) => {
      const { app } = await buildTestApp()
      const original = await app.inject({ method: 'POST', url: '/login', ...request })
      const current = await app.inject({ method: 'POST', url: '/auth/login', ...request })
      expect(original.statusCode).not.toBe(404)
      expect(normalized(original)).toEqual(normalized(current))
    })

    it('answers exactly as /auth/login with a query string', async () => {
      const { app } = await buildTestApp()
      const payload = { username: DEMO_USERNAME, password: DEMO_PASSWORD }
      const original = await app.inject({ method: 'POST', url: '/login?client=legacy&x=1', payload })
      const current = await app.inject({ method: 'POST', url: '/auth/login?client=legacy&x=1', payload })
      expect(original.statusCode).toBe(200)
      expect(normalized(original)).toEqual(normalized(current))
      expect(await getData(app, original.json<{ token: string }>().token)).toHaveProperty('statusCode', 200)
    })

    it('gives a token that works like any other', async () => {
      const { app } = await buildTestApp()
      const response = await app.inject({ method: 'POST', url: '/login', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
      expect(response.statusCode).toBe(200)
      expect((await getData(app, response.json<{ token: string }>().token)).statusCode).toBe(200)
    })

    it('is only a POST route, like /auth/login', async () => {
      const { app } = await buildTestApp()
      const original = await app.inject({ method: 'GET', url: '/login' })
      const current = await app.inject({ method: 'GET', url: '/auth/login' })
      expect(original.statusCode).toBe(404)
      expect(current.statusCode).toBe(404)
    })

    it('does not rewrite paths that merely start like an original one', async () => {
      const { app } = await buildTestApp()
      const response = await app.inject({ method: 'POST', url: '/login/extra', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
      expectErrorShape(response, 404)
    })
  })
})

describe('POST /auth/logout', () => {
  it('answers 204 with no body, after which the token no longer validates', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expect((await getData(app, token)).statusCode).toBe(200)

    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${token}` } })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')

    const data = await getData(app, token)
    expectErrorShape(data, 401)
    expect(data.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  it('revokes only the token of the request', async () => {
    const { app } = await buildTestApp()
    const kept = await loginToken(app)
    const revoked = await loginToken(app)
    expect((await app.inject({ method: 'POST', url: '/auth/logout', headers: { token: revoked } })).statusCode).toBe(204)
    expect((await getData(app, kept)).statusCode).toBe(200)
  })

  it('works with the token header', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    expect(response.statusCode).toBe(204)
    expectErrorShape(await getData(app, token), 401)
  })

  it('works with both headers when they carry the same token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${token}`, token } })
    expect(response.statusCode).toBe(204)
  })

  it('answers 401 with WWW-Authenticate: Bearer when no token is given', async () => {
    const { app } = await buildTestApp()
    const response = await app.inject({ method: 'POST', url: '/auth/logout' })
    expectErrorShape(response, 401)
    expect(response.headers['www-authenticate']).toBe('Bearer')
  })

  it('answers 401 with error="invalid_token" for an unknown, a malformed or an already revoked token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${token}` } })
    for (const presented of [token, 'A'.repeat(32), 'not a token', 'x'.repeat(5000)]) {
      const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${presented}` } })
      expectErrorShape(response, 401)
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    }
  })

  it('answers 401 for an expired token', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    expectErrorShape(response, 401)
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  it('answers 400 with error="invalid_request" for different tokens in the two headers, and revokes neither', async () => {
    const { app } = await buildTestApp()
    const first = await loginToken(app)
    const second = await loginToken(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${first}`, token: second } })
    expectErrorShape(response, 400)
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"')
    expect((await getData(app, first)).statusCode).toBe(200)
    expect((await getData(app, second)).statusCode).toBe(200)
  })
})

describe('POST /auth/logout-all', () => {
  const ADA = { username: 'ada@example.com', password: 'ada-password-1815' }
  const ALAN = { username: 'alan@example.com', password: 'alan-password-1912' }
  let directory: string
  let usersFile: string

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'logout-all-'))
    usersFile = join(directory, 'users.json')
    await writeFile(usersFile, JSON.stringify([
      { username: ADA.username, passwordHash: await hashPassword(ADA.password) },
      { username: ALAN.username, passwordHash: await hashPassword(ALAN.password) }
    ]))
  })

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  async function tokenOf (app: FastifyInstance, user: { username: string, password: string }): Promise<string> {
    const response = await login(app, user.username, user.password)
    expect(response.statusCode).toBe(200)
    return response.json<{ token: string }>().token
  }

  it('answers 204 and revokes every token of the user, and only theirs', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const adaTokens = [await tokenOf(app, ADA), await tokenOf(app, ADA), await tokenOf(app, ADA)]
    const alanToken = await tokenOf(app, ALAN)
    for (const token of [...adaTokens, alanToken]) expect((await getData(app, token)).statusCode).toBe(200)

    const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${adaTokens[1]}` } })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')

    for (const token of adaTokens) {
      const data = await getData(app, token)
      expectErrorShape(data, 401)
      expect(data.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    }
    const alan = await getData(app, alanToken)
    expect(alan.statusCode).toBe(200)
    expect(alan.json()).toMatchObject({ data: { user: ALAN.username } })
  })

  it('replaces the demo user with the users of USERS_FILE', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    expectErrorShape(await login(app), 401)
    expect((await login(app, ADA.username, ADA.password)).statusCode).toBe(200)
  })

  it('works with the token header', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ALAN)
    const other = await tokenOf(app, ALAN)
    expect((await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token } })).statusCode).toBe(204)
    expectErrorShape(await getData(app, other), 401)
  })

  it('lets the user log in again afterwards', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ADA)
    await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token } })
    const fresh = await tokenOf(app, ADA)
    expect((await getData(app, fresh)).statusCode).toBe(200)
  })

  it('answers 401 without a token, or with a revoked one, and revokes nothing', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ADA)
    const missing = await app.inject({ method: 'POST', url: '/auth/logout-all' })
    expectErrorShape(missing, 401)
    expect(missing.headers['www-authenticate']).toBe('Bearer')
    const unknown = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token: 'B'.repeat(32) } })
    expectErrorShape(unknown, 401)
    expect(unknown.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    expect((await getData(app, token)).statusCode).toBe(200)
  })

  it('answers 400 for different tokens in the two headers', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const ada = await tokenOf(app, ADA)
    const alan = await tokenOf(app, ALAN)
    const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${ada}`, token: alan } })
    expectErrorShape(response, 400)
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"')
    expect((await getData(app, ada)).statusCode).toBe(200)
    expect((await getData(app, alan)).statusCode).toBe(200)
  })
})

describe('GET /auth/sessions', () => {
  it('lists one entry per live token of the user, with ISO times from the clock', async () => {
    const { app, clock } = await buildTestApp()
    const start = clock.now()
    const first = await loginToken(app)
    clock.advanceSeconds(5)
    const second = await loginToken(app)
    clock.advanceSeconds(5)

    const response = await sessions(app, second)
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('no-store')
    const body = response.json<{ sessions: SessionBody[] }>()
    expect(Object.keys(body)).toEqual(['sessions'])
    expect(body.sessions).toHaveLength(2)
    for (const session of body.sessions) {
      expect(Object.keys(session).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'lastUsedAt', 'refreshCount'])
    }
    const iso = (offsetSeconds: number) => new Date(start + offsetSeconds * 1000).toISOString()
    expect(body.sessions[0]).toEqual({
      id: expect.any(String), createdAt: iso(0), lastUsedAt: iso(0), expiresAt: iso(30), refreshCount: 0, current: false
    })
    // The request validated (and so reinflated) its own token.
    expect(body.sessions[1]).toEqual({
      id: expect.any(String), createdAt: iso(5), lastUsedAt: iso(10), expiresAt: iso(40), refreshCount: 1, current: true
    })
    expect(body.sessions[0]?.createdAt).toBe('2026-01-01T00:00:00.000Z')
    expect(first).not.toBe(second)
  })

  it('marks as current only the token of the request', async () => {
    const { app } = await buildTestApp()
    const tokens = [await loginToken(app), await loginToken(app), await loginToken(app)]
    const currentIds = []
    for (const token of tokens) {
      const list = (await sessions(app, token)).json<{ sessions: SessionBody[] }>().sessions
      expect(list).toHaveLength(3)
      const current = list.filter((session) => session.current)
      expect(current).toHaveLength(1)
      currentIds.push(current[0]?.id)
    }
    expect(new Set(currentIds).size).toBe(3)
  })

  it('works with the token header', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const response = await app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })
    expect(response.statusCode).toBe(200)
    expect(response.json<{ sessions: SessionBody[] }>().sessions).toHaveLength(1)
  })

  it('gives ids that are stable, distinct and never the token', async () => {
    const { app } = await buildTestApp()
    const tokens = [await loginToken(app), await loginToken(app)]
    const firstList = (await sessions(app, tokens[0] as string)).json<{ sessions: SessionBody[] }>().sessions
    const secondList = (await sessions(app, tokens[0] as string)).json<{ sessions: SessionBody[] }>().sessions
    expect(firstList.map((session) => session.id)).toEqual(secondList.map((session) => session.id))
    expect(new Set(firstList.map((session) => session.id)).size).toBe(2)
    for (const session of firstList) {
      for (const token of tokens) {
        expect(session.id).not.toBe(token)
        expect(token).not.toContain(session.id)
      }
    }
    expect(JSON.stringify(firstList)).not.toContain(tokens[0])
    expect(JSON.stringify(firstList)).not.toContain(tokens[1])
  })

  it('leaves out expired tokens', async () => {
    const { app, clock } = await buildTestApp()
    await loginToken(app)
    clock.advanceSeconds(20)
    const live = await loginToken(app)
    expect((await sessions(app, live)).json<{ sessions: SessionBody[] }>().sessions).toHaveLength(2)
    clock.advanceSeconds(10) // the first token is now 30 s idle: expired
    const list = (await sessions(app, live)).json<{ sessions: SessionBody[] }>().sessions
    expect(list).toHaveLength(1)
    expect(list[0]?.current).toBe(true)
  })

  it('leaves out revoked tokens', async () => {
    const { app } = await buildTestApp()
    const revoked = await loginToken(app)
    const live = await loginToken(app)
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { token: revoked } })
    expect((await sessions(app, live)).json<{ sessions: SessionBody[] }>().sessions).toHaveLength(1)
  })

  it('answers 401 without a token, and with an unknown or expired one', async () => {
    const { app, clock } = await buildTestApp()
    const missing = await app.inject({ method: 'GET', url: '/auth/sessions' })
    expectErrorShape(missing, 401)
    expect(missing.headers['www-authenticate']).toBe('Bearer')
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    for (const presented of [token, 'C'.repeat(32)]) {
      const response = await sessions(app, presented)
      expectErrorShape(response, 401)
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    }
  })
})

describe('POST /auth/validateToken', () => {
  it('answers authenticated true with the username and the seconds left', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(10)
    const response = await validate(app, token)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ authenticated: true, username: DEMO_USERNAME, expiresIn: 30 })
  })

  it('reinflates the token at each validation', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(20)
    expect((await validate(app, token)).json()).toEqual({ authenticated: true, username: DEMO_USERNAME, expiresIn: 30 })
    clock.advanceSeconds(20) // 40 s after login, 20 s after the last use
    expect((await validate(app, token)).json()).toEqual({ authenticated: true, username: DEMO_USERNAME, expiresIn: 30 })
  })

  it('answers authenticated false for an unknown token', async () => {
    const { app } = await buildTestApp()
    await loginToken(app)
    const response = await validate(app, 'D'.repeat(32))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ authenticated: false })
  })

  it.each([['empty', ''], ['short', 'abc'], ['with forbidden characters', `${'a'.repeat(31)}!`], ['too long', 'a'.repeat(33)], ['huge', 'a'.repeat(10_000)]])(
    'answers authenticated false for a malformed (%s) token', async (_name, token) => {
      const { app } = await buildTestApp()
      const response = await validate(app, token)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ authenticated: false })
    })

  it('answers authenticated false once the token has been idle 30 s', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(29)
    expect((await validate(app, token)).json()).toMatchObject({ authenticated: true })
    clock.advanceSeconds(30)
    expect((await validate(app, token)).json()).toEqual({ authenticated: false })
  })

  it('answers authenticated false for a token 30 s after login, without use', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    expect((await validate(app, token)).json()).toEqual({ authenticated: false })
  })

  it('answers authenticated false for a revoked token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expect((await validate(app, token)).json()).toMatchObject({ authenticated: true })
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    expect((await validate(app, token)).json()).toEqual({ authenticated: false })
  })

  describe('over the network', () => {
    async function listening () {
      const testApp = await buildTestApp()
      const address = await testApp.app.listen({ port: 0, host: '127.0.0.1' })
      return { ...testApp, address }
    }

    async function call (url: string, init: RequestInit) {
      const response = await fetch(url, init)
      return { status: response.status, contentType: response.headers.get('content-type'), body: await response.json() as Record<string, unknown> }
    }

    it('answers POST with the 404 of an unknown route', async () => {
      const { app, address } = await listening()
      const token = await loginToken(app)
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) }
      const internal = await call(`${address}/auth/validateToken`, init)
      const unknown = await call(`${address}/auth/noSuchRoute`, init)
      expect(internal.status).toBe(404)
      expect(unknown.status).toBe(404)
      expect(internal.contentType).toBe(unknown.contentType)
      expect(internal.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route POST:/auth/validateToken not found' })
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route POST:/auth/noSuchRoute not found' })
      expect(Object.keys(internal.body).sort()).toEqual(Object.keys(unknown.body).sort())
      // The token was not validated (and so not reinflated) by the network call.
      expect(JSON.stringify(internal.body)).not.toContain('authenticated')
    })

    it('answers GET with the 404 of an unknown route', async () => {
      const { address } = await listening()
      const internal = await call(`${address}/auth/validateToken`, { method: 'GET' })
      const unknown = await call(`${address}/auth/noSuchRoute`, { method: 'GET' })
      expect(internal.status).toBe(404)
      expect(internal.contentType).toBe(unknown.contentType)
      expect(internal.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route GET:/auth/validateToken not found' })
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route GET:/auth/noSuchRoute not found' })
    })

    it('still serves the public routes, and the business service still validates in-process', async () => {
      const { address } = await listening()
      const loginResponse = await fetch(`${address}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD })
      })
      expect(loginResponse.status).toBe(200)
      const { token } = await loginResponse.json() as { token: string }
      const data = await fetch(`${address}/business/data`, { headers: { authorization: `Bearer ${token}` } })
      expect(data.status).toBe(200)
      expect(await data.json()).toMatchObject({ data: { user: DEMO_USERNAME } })
    })
  })
})
