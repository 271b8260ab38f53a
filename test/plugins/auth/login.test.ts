import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { expectErrorShape } from '../../helpers/answers.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, getData, login, loginToken } from '../../helpers/build-app.js'

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32}$/

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
