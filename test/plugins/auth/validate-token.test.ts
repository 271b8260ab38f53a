import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, loginToken } from '../../helpers/build-app.js'

function validate (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/validateToken', payload: { token } })
}

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
