import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../../src/store-unavailable-error.js'
import { expectChallenge } from '../../helpers/answers.js'
import { buildTestApp, DEMO_USERNAME, loginToken } from '../../helpers/build-app.js'
import { failingTokenStore } from '../../helpers/failing-store.js'

function verify (app: FastifyInstance, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/auth/verify', headers })
}

function forwardAuthApp () {
  return buildTestApp({ config: { FORWARD_AUTH: 'true' } })
}

/** A challenge (answers.ts), and no user for the proxy to pass on. */
function expectRefused (response: LightMyRequestResponse, statusCode: number, challenge: string) {
  expectChallenge(response, statusCode, challenge)
  expect(response.headers['x-auth-user']).toBeUndefined()
  expect(response.json()).toMatchObject({ statusCode, error: expect.any(String), message: expect.any(String) })
}

describe('GET /auth/verify', () => {
  it('is not there unless FORWARD_AUTH is on: 404, as an unknown route', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const response = await verify(app, { authorization: `Bearer ${token}` })
    expect(response.statusCode).toBe(404)
    expect(response.headers['x-auth-user']).toBeUndefined()
  })

  it('is not there with FORWARD_AUTH=false either', async () => {
    const { app } = await buildTestApp({ config: { FORWARD_AUTH: 'false' } })
    expect((await verify(app)).statusCode).toBe(404)
  })

  it('answers 200 with the user in X-Auth-User for a valid Authorization: Bearer token', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    const response = await verify(app, { authorization: `Bearer ${token}` })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-auth-user']).toBe(DEMO_USERNAME)
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.json()).toEqual({ username: DEMO_USERNAME, expiresIn: 30 })
  })

  it('accepts the token header of the original clients too', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    const response = await verify(app, { token })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-auth-user']).toBe(DEMO_USERNAME)
  })

  it('accepts both headers when they carry the same token', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    const response = await verify(app, { authorization: `Bearer ${token}`, token })
    expect(response.statusCode).toBe(200)
  })

  it('reinflates the token: used every 20 s, it outlives its 30 s idle lifetime', async () => {
    const { app, clock } = await forwardAuthApp()
    const token = await loginToken(app)
    clock.advanceSeconds(20)
    expect((await verify(app, { authorization: `Bearer ${token}` })).statusCode).toBe(200)
    clock.advanceSeconds(20)
    const second = await verify(app, { token })
    expect(second.statusCode).toBe(200)
    expect(second.json()).toMatchObject({ expiresIn: 30 })
    // 40 s after login, the business service sees it alive too: verify reset its idle lifetime.
    const data = await app.inject({ method: 'GET', url: '/business/data', headers: { token } })
    expect(data.statusCode).toBe(200)
    const sessions = await app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })
    expect(sessions.json<{ sessions: Array<{ refreshCount: number }> }>().sessions[0]?.refreshCount).toBe(4)
  })

  it('answers 401 with WWW-Authenticate: Bearer when no token is sent', async () => {
    const { app } = await forwardAuthApp()
    expectRefused(await verify(app), 401, 'Bearer')
  })

  it('answers 401 invalid_token for an unknown token, in either header', async () => {
    const { app } = await forwardAuthApp()
    const unknown = 'A'.repeat(32)
    expectRefused(await verify(app, { authorization: `Bearer ${unknown}` }), 401, 'Bearer error="invalid_token"')
    expectRefused(await verify(app, { token: unknown }), 401, 'Bearer error="invalid_token"')
    expectRefused(await verify(app, { token: 'not a token at all' }), 401, 'Bearer error="invalid_token"')
  })

  it('answers 401 invalid_token once the token has expired', async () => {
    const { app, clock } = await forwardAuthApp()
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    expectRefused(await verify(app, { authorization: `Bearer ${token}` }), 401, 'Bearer error="invalid_token"')
  })

  it('answers 401 invalid_token once the token is revoked', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    expectRefused(await verify(app, { token }), 401, 'Bearer error="invalid_token"')
  })

  it('answers 401 for an Authorization header of another scheme', async () => {
    const { app } = await forwardAuthApp()
    expectRefused(await verify(app, { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'Bearer')
  })

  it('answers 400 invalid_request when the two headers carry different tokens', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    const other = await loginToken(app)
    expectRefused(await verify(app, { authorization: `Bearer ${token}`, token: other }), 400, 'Bearer error="invalid_request"')
  })

  it('ignores an X-Auth-User header sent by the client', async () => {
    const { app } = await forwardAuthApp()
    const spoofed = await verify(app, { 'x-auth-user': 'admin@example.com' })
    expectRefused(spoofed, 401, 'Bearer')
    const token = await loginToken(app)
    const response = await verify(app, { token, 'x-auth-user': 'admin@example.com' })
    expect(response.headers['x-auth-user']).toBe(DEMO_USERNAME)
  })

  it('answers 503, not 500, when the token store cannot be reached', async () => {
    const { app } = await buildTestApp({ config: { FORWARD_AUTH: 'true' }, tokenStore: failingTokenStore('reinflate', new StoreUnavailableError('down')) })
    const token = await loginToken(app)
    const response = await verify(app, { token })
    expect(response.statusCode).toBe(503)
    expect(response.headers['x-auth-user']).toBeUndefined()
  })

  it('is reachable from the network, unlike validateToken', async () => {
    const { app } = await forwardAuthApp()
    const token = await loginToken(app)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const response = await fetch(`http://127.0.0.1:${port}/auth/verify`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-auth-user')).toBe(DEMO_USERNAME)
  })

  it('is in the OpenAPI document when on', async () => {
    const { app } = await forwardAuthApp()
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>()
    expect(document.paths['/auth/verify']).toHaveProperty('get')
  })
})
