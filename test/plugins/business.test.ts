import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import { expectChallenge, expectErrorShape } from '../helpers/answers.js'
import { buildTestApp, DEMO_USERNAME, getData, loginToken } from '../helpers/build-app.js'
import { failingTokenStore } from '../helpers/failing-store.js'

function expectData (response: LightMyRequestResponse, tokenExpiresIn = 30): void {
  expect(response.statusCode).toBe(200)
  expect(response.json()).toEqual({
    data: { message: expect.any(String), user: DEMO_USERNAME, tokenExpiresIn }
  })
}

describe('GET /business/data', () => {
  it('answers 200 with the data for a Bearer token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const response = await getData(app, token)
    expectData(response)
    expect(response.json<{ data: { message: string } }>().data.message).toContain(DEMO_USERNAME)
  })

  it('answers 200 with the token header', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expectData(await app.inject({ method: 'GET', url: '/business/data', headers: { token } }))
  })

  it('answers 200 with both headers carrying the same token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expectData(await app.inject({ method: 'GET', url: '/business/data', headers: { authorization: `Bearer ${token}`, token } }))
  })

  it.each(['bearer', 'BEARER', 'BeArEr'])('reads the scheme without regard to case (%s)', async (scheme) => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expectData(await app.inject({ method: 'GET', url: '/business/data', headers: { authorization: `${scheme} ${token}` } }))
  })

  it('answers 401 with WWW-Authenticate: Bearer when no token is given', async () => {
    const { app } = await buildTestApp()
    expectChallenge(await app.inject({ method: 'GET', url: '/business/data' }), 401, 'Bearer')
  })

  it.each(['', '   ', 'Bearer', 'Bearer    '])('answers 401 with WWW-Authenticate: Bearer for an empty credential (%j)', async (authorization) => {
    const { app } = await buildTestApp()
    expectChallenge(await app.inject({ method: 'GET', url: '/business/data', headers: { authorization } }), 401, 'Bearer')
  })

  it('answers 401 with WWW-Authenticate: Bearer for another scheme, even with a valid token in it', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    for (const authorization of ['Basic dXNlcjpwYXNz', `Basic ${token}`, `Token ${token}`, token]) {
      expectChallenge(await app.inject({ method: 'GET', url: '/business/data', headers: { authorization } }), 401, 'Bearer')
    }
  })

  it('answers 401 with error="invalid_token" for an unknown token', async () => {
    const { app } = await buildTestApp()
    await loginToken(app)
    expectChallenge(await getData(app, 'E'.repeat(32)), 401, 'Bearer error="invalid_token"')
  })

  it.each([['short', 'abc'], ['with forbidden characters', `${'a'.repeat(31)}$`], ['too long', 'a'.repeat(33)], ['huge', 'a'.repeat(8000)]])(
    'answers 401 with error="invalid_token" for a malformed (%s) token', async (_name, token) => {
      const { app } = await buildTestApp()
      expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
      expectChallenge(await app.inject({ method: 'GET', url: '/business/data', headers: { token } }), 401, 'Bearer error="invalid_token"')
    })

  it('answers 401 with error="invalid_token" once the token has been idle TOKEN_TTL_SECONDS', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(29)
    expectData(await getData(app, token))
    clock.advanceSeconds(29)
    expectData(await getData(app, token))
    clock.advanceSeconds(30)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
    // An expired token does not come back.
    clock.advance(-1000)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
  })

  it('answers 401 with error="invalid_token" once the token reaches TOKEN_MAX_LIFETIME_SECONDS, however used', async () => {
    const { app, clock } = await buildTestApp({ config: { TOKEN_MAX_LIFETIME_SECONDS: 60 } })
    const token = await loginToken(app)
    clock.advanceSeconds(20)
    expectData(await getData(app, token), 30)
    clock.advanceSeconds(20)
    expectData(await getData(app, token), 20) // capped: 60 s after login
    clock.advanceSeconds(19)
    expectData(await getData(app, token), 1)
    clock.advanceSeconds(1)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
  })

  it('answers 401 with error="invalid_token" for a revoked token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expectData(await getData(app, token))
    expect((await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })).statusCode).toBe(204)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
  })

  it('answers 400 with error="invalid_request" for different tokens in the two headers', async () => {
    const { app } = await buildTestApp()
    const first = await loginToken(app)
    const second = await loginToken(app)
    expectChallenge(
      await app.inject({ method: 'GET', url: '/business/data', headers: { authorization: `Bearer ${first}`, token: second } }),
      400, 'Bearer error="invalid_request"')
    expectChallenge(
      await app.inject({ method: 'GET', url: '/business/data', headers: { authorization: `Bearer ${first}`, token: 'F'.repeat(32) } }),
      400, 'Bearer error="invalid_request"')
  })

  it('answers 503, not 500, when the token store is unavailable', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('reinflate', new StoreUnavailableError('down')) })
    const token = await loginToken(app)
    const response = await getData(app, token)
    expectErrorShape(response, 503)
    expect(response.body).not.toContain('down')
  })

  it('answers 503, not 500, when the token store fails with any other error', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('reinflate', new Error('boom: connection reset')) })
    const token = await loginToken(app)
    const response = await getData(app, token)
    expectErrorShape(response, 503)
    expect(response.body).not.toContain('boom')
  })

  it('does not consult the failing store when no token is given (401, not 503)', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('reinflate', new StoreUnavailableError('down')) })
    expectChallenge(await app.inject({ method: 'GET', url: '/business/data' }), 401, 'Bearer')
  })

  it('keeps serving after the store failed', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('reinflate', new StoreUnavailableError('down')) })
    const token = await loginToken(app)
    expectErrorShape(await getData(app, token), 503)
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
  })

  describe('GET /data (the original path)', () => {
    function normalized (response: LightMyRequestResponse) {
      return { statusCode: response.statusCode, wwwAuthenticate: response.headers['www-authenticate'], contentType: response.headers['content-type'], body: response.json() as unknown }
    }

    it('answers exactly as /business/data with a valid token, in either header', async () => {
      const { app } = await buildTestApp()
      const token = await loginToken(app)
      for (const headers of [{ authorization: `Bearer ${token}` }, { token }]) {
        const original = await app.inject({ method: 'GET', url: '/data', headers })
        const current = await app.inject({ method: 'GET', url: '/business/data', headers })
        expectData(original)
        expect(normalized(original)).toEqual(normalized(current))
      }
    })

    it('answers exactly as /business/data with a query string', async () => {
      const { app } = await buildTestApp()
      const token = await loginToken(app)
      const original = await app.inject({ method: 'GET', url: '/data?page=2', headers: { token } })
      const current = await app.inject({ method: 'GET', url: '/business/data?page=2', headers: { token } })
      expectData(original)
      expect(normalized(original)).toEqual(normalized(current))
    })

    it('answers exactly as /business/data without a token, with an unknown one and with conflicting ones', async () => {
      const { app } = await buildTestApp()
      const token = await loginToken(app)
      const cases = [{}, { token: 'G'.repeat(32) }, { authorization: `Bearer ${token}`, token: 'H'.repeat(32) }]
      for (const headers of cases) {
        const original = await app.inject({ method: 'GET', url: '/data', headers })
        const current = await app.inject({ method: 'GET', url: '/business/data', headers })
        expect(original.statusCode).not.toBe(200)
        expect(normalized(original)).toEqual(normalized(current))
      }
    })

    it('answers 404 for a method /business/data does not have', async () => {
      const { app } = await buildTestApp()
      expect((await app.inject({ method: 'POST', url: '/data' })).statusCode).toBe(404)
    })
  })

  it('reinflates the token at each call', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    for (let call = 0; call < 4; call++) {
      clock.advanceSeconds(20)
      expectData(await getData(app, token), 30)
    }
  })

  it('does not reinflate the token when it is not used', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(20)
    expectData(await getData(app, token), 30)
    clock.advanceSeconds(20)
    clock.advanceSeconds(10)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
  })

  it('sees neither the token store nor the users: they are encapsulated in the auth service', async () => {
    const { app } = await buildTestApp()
    // What the root shares (fastify-plugin) is visible...
    expect(app.hasDecorator('config')).toBe(true)
    expect(app.hasDecorator('readinessChecks')).toBe(true)
    // ...what the auth service keeps to itself is not, for the root nor for its sibling, the business service.
    expect(app.hasDecorator('tokenStore')).toBe(false)
    expect(app.hasDecorator('authenticator')).toBe(false)
    expect(app.hasRequestDecorator('session')).toBe(false)
    // The business service still works, through inject() alone.
    expectData(await getData(app, await loginToken(app)))
  })
})
