import { describe, expect, it } from 'vitest'
import { expectChallenge, expectErrorShape } from '../../helpers/answers.js'
import { buildTestApp, getData, loginToken } from '../../helpers/build-app.js'

describe('POST /auth/logout', () => {
  it('answers 204 with no body, after which the token no longer validates', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    expect((await getData(app, token)).statusCode).toBe(200)

    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${token}` } })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')

    const data = await getData(app, token)
    expectChallenge(data, 401, 'Bearer error="invalid_token"')
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
    expectChallenge(response, 401, 'Bearer')
  })

  it('answers 401 with error="invalid_token" for an unknown, a malformed or an already revoked token', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${token}` } })
    for (const presented of [token, 'A'.repeat(32), 'not a token', 'x'.repeat(5000)]) {
      const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${presented}` } })
      expectChallenge(response, 401, 'Bearer error="invalid_token"')
    }
  })

  it('answers 401 for an expired token', async () => {
    const { app, clock } = await buildTestApp()
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    expectChallenge(response, 401, 'Bearer error="invalid_token"')
  })

  it('answers 400 with error="invalid_request" for different tokens in the two headers, and revokes neither', async () => {
    const { app } = await buildTestApp()
    const first = await loginToken(app)
    const second = await loginToken(app)
    const response = await app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${first}`, token: second } })
    expectChallenge(response, 400, 'Bearer error="invalid_request"')
    expect((await getData(app, first)).statusCode).toBe(200)
    expect((await getData(app, second)).statusCode).toBe(200)
  })
})
