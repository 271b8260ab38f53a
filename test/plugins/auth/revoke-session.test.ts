import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '../../../src/store-unavailable-error.js'
import { policyFromSeconds } from '../../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../../src/tokens/memory-token-store.js'
import { digestToken, generateToken, sessionIdOf } from '../../../src/tokens/token.js'
import { expectChallenge, expectErrorShape } from '../../helpers/answers.js'
import { buildTestApp, getData, loginToken } from '../../helpers/build-app.js'
import { PHONE } from '../../helpers/devices.js'
import { failingTokenStore } from '../../helpers/failing-store.js'

function endSession (app: FastifyInstance, token: string, id: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: `/auth/sessions/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${token}` } })
}

async function sessionIds (app: FastifyInstance, token: string): Promise<Array<{ id: string, current: boolean }>> {
  const response = await app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })
  return response.json<{ sessions: Array<{ id: string, current: boolean }> }>().sessions.map(({ id, current }) => ({ id, current }))
}

/** The one answer for every id that does not name a live session of the requester. */
function expectNoSuchSession (response: LightMyRequestResponse, what: string): void {
  expectErrorShape(response, 404)
  expect(response.json(), what).toEqual({ statusCode: 404, error: 'Not Found', message: 'No such session' })
}

/** An app on a store the test can also fill directly, with a session of another user, bob. */
async function appWithBob () {
  const store = new MemoryTokenStore(policyFromSeconds(30, 86_400))
  const testApp = await buildTestApp({ tokenStore: store })
  const bobToken = generateToken('bob@example.com')
  await store.issue(digestToken(bobToken), 'bob@example.com', PHONE, testApp.clock.now())
  return { ...testApp, store, bobToken, bobSessionId: sessionIdOf(digestToken(bobToken)) }
}

describe('DELETE /auth/sessions/{id}', () => {
  it('answers 204 with no body and ends that session: its token is refused at once, the others live on', async () => {
    const { app } = await buildTestApp()
    const other = await loginToken(app)
    const current = await loginToken(app)
    const [otherSession] = (await sessionIds(app, current)).filter((session) => !session.current)

    const response = await endSession(app, current, otherSession!.id)
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')

    expectChallenge(await getData(app, other), 401, 'Bearer error="invalid_token"')
    expect((await getData(app, current)).statusCode).toBe(200)
    expect(await sessionIds(app, current)).toEqual([{ id: expect.any(String), current: true }])
  })

  it('ends the request\'s own session too: 204, and its token is dead', async () => {
    const { app } = await buildTestApp()
    const kept = await loginToken(app)
    const token = await loginToken(app)
    const own = (await sessionIds(app, token)).find((session) => session.current)!

    expect((await endSession(app, token, own.id)).statusCode).toBe(204)
    expectChallenge(await getData(app, token), 401, 'Bearer error="invalid_token"')
    expectChallenge(await endSession(app, token, own.id), 401, 'Bearer error="invalid_token"')
    expect((await getData(app, kept)).statusCode).toBe(200)
  })

  it('answers another user\'s session id with the same 404 as an unknown one, and ends nothing', async () => {
    const { app, bobToken, bobSessionId } = await appWithBob()
    const token = await loginToken(app)

    const others = await endSession(app, token, bobSessionId)
    const unknown = await endSession(app, token, sessionIdOf(digestToken(generateToken('jsf.fusco@gmail.com'))))
    expectNoSuchSession(others, 'another user\'s session')
    expectNoSuchSession(unknown, 'an unknown session')
    expect(others.body).toBe(unknown.body)
    expect(others.headers['content-type']).toBe(unknown.headers['content-type'])

    const bobs = await getData(app, bobToken)
    expect(bobs.statusCode).toBe(200)
    expect(bobs.json()).toMatchObject({ data: { user: 'bob@example.com' } })
  })

  it('answers the same 404 for an id that cannot be one: a token, a digest, too short, odd characters', async () => {
    const { app, store } = await appWithBob()
    const token = await loginToken(app)
    const [own] = await sessionIds(app, token)
    const malformed = [
      'x', own!.id.slice(0, 15), `${own!.id}x`, own!.id.toUpperCase(), token, digestToken(token),
      '...', '%2e%2e', ' ', 'a b', 'ünïcödé', '<script>', "' OR 1=1 --", '{id}', 'x'.repeat(100), 'x'.repeat(5000)
    ]
    for (const id of malformed) expectNoSuchSession(await endSession(app, token, id), JSON.stringify(id))
    expect(await store.size()).toBe(2)
    expect(await sessionIds(app, token)).toEqual([{ id: own!.id, current: true }])
  })

  it('answers 404 for a session that expired, or that was ended already', async () => {
    const { app, clock } = await buildTestApp()
    const expiring = await loginToken(app)
    clock.advanceSeconds(1)
    const ended = await loginToken(app)
    clock.advanceSeconds(19)
    const token = await loginToken(app)
    const [expiringId, endedId] = (await sessionIds(app, token)).map((session) => session.id)
    await getData(app, ended)

    expect((await endSession(app, token, endedId!)).statusCode).toBe(204)
    expectNoSuchSession(await endSession(app, token, endedId!), 'ended already')
    clock.advanceSeconds(10) // the first login is now 30 s idle: expired; the others were used since
    expectNoSuchSession(await endSession(app, token, expiringId!), 'expired')
    expectChallenge(await getData(app, expiring), 401, 'Bearer error="invalid_token"')
  })

  it('needs a token, as every route that takes one, and ends nothing without one', async () => {
    const { app } = await appWithBob()
    const token = await loginToken(app)
    const [own] = await sessionIds(app, token)
    const url = `/auth/sessions/${own!.id}`

    expectChallenge(await app.inject({ method: 'DELETE', url }), 401, 'Bearer')
    expectChallenge(await app.inject({ method: 'DELETE', url, headers: { token: 'C'.repeat(32) } }), 401, 'Bearer error="invalid_token"')
    expectChallenge(await app.inject({ method: 'DELETE', url, headers: { token, authorization: `Bearer ${'D'.repeat(32)}` } }),
      400, 'Bearer error="invalid_request"')
    expect((await getData(app, token)).statusCode).toBe(200)
  })

  it('works with the token header', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app)
    const [own] = await sessionIds(app, token)
    const response = await app.inject({ method: 'DELETE', url: `/auth/sessions/${own!.id}`, headers: { token } })
    expect(response.statusCode).toBe(204)
  })

  it('answers 503 with Retry-After when the token store cannot be reached', async () => {
    const { app } = await buildTestApp({ tokenStore: failingTokenStore('revokeSession', new StoreUnavailableError('down')) })
    const token = await loginToken(app)
    const [own] = await sessionIds(app, token)
    const response = await endSession(app, token, own!.id)
    expectErrorShape(response, 503)
    expect(response.headers['retry-after']).toBe('5')
    expect((await getData(app, token)).statusCode).toBe(200)
  })

  it('logs the session it ended, never a token', async () => {
    const testApp = await buildTestApp()
    const { app } = testApp
    const token = await loginToken(app)
    const [own] = await sessionIds(app, token)
    await endSession(app, token, own!.id)
    expect(testApp.logs).toContainEqual(expect.objectContaining({ msg: 'session ended', session: own!.id, username: 'jsf.fusco@gmail.com' }))
    expect(testApp.rawLogs()).not.toContain(token)
    expect(testApp.rawLogs()).not.toContain(digestToken(token))
  })
})
