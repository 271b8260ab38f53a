import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { expectChallenge } from '../../helpers/answers.js'
import { buildTestApp, loginToken } from '../../helpers/build-app.js'
import { LAPTOP, NO_USER_AGENT, PHONE } from '../../helpers/devices.js'

interface SessionBody {
  id: string
  userAgent: string | null
  address: string
  createdAt: string
  lastUsedAt: string
  expiresAt: string
  refreshCount: number
  current: boolean
}

function sessions (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${token}` } })
}

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
      expect(Object.keys(session).sort()).toEqual(['address', 'createdAt', 'current', 'expiresAt', 'id', 'lastUsedAt', 'refreshCount', 'userAgent'])
    }
    const iso = (offsetSeconds: number) => new Date(start + offsetSeconds * 1000).toISOString()
    // light-my-request's own User-Agent and socket address.
    const device = { userAgent: 'lightMyRequest', address: '127.0.0.1' }
    expect(body.sessions[0]).toEqual({
      id: expect.any(String), ...device, createdAt: iso(0), lastUsedAt: iso(0), expiresAt: iso(30), refreshCount: 0, current: false
    })
    // The request validated (and so reinflated) its own token.
    expect(body.sessions[1]).toEqual({
      id: expect.any(String), ...device, createdAt: iso(5), lastUsedAt: iso(10), expiresAt: iso(40), refreshCount: 1, current: true
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

  it('tells the sessions apart by device: the User-Agent and client address of each login', async () => {
    const { app, clock } = await buildTestApp()
    const laptop = await loginToken(app, { headers: { 'user-agent': LAPTOP.userAgent! }, remoteAddress: LAPTOP.address })
    clock.advanceSeconds(1)
    await loginToken(app, { headers: { 'user-agent': PHONE.userAgent! }, remoteAddress: PHONE.address })
    clock.advanceSeconds(1)
    await loginToken(app, { headers: { 'user-agent': undefined }, remoteAddress: NO_USER_AGENT.address })
    clock.advanceSeconds(1)
    await loginToken(app, { headers: { 'user-agent': '' } })

    const list = (await sessions(app, laptop)).json<{ sessions: SessionBody[] }>().sessions
    expect(list.map(({ userAgent, address, current }) => ({ userAgent, address, current }))).toEqual([
      { ...LAPTOP, current: true },
      { ...PHONE, current: false },
      { userAgent: null, address: NO_USER_AGENT.address, current: false },
      { userAgent: null, address: '127.0.0.1', current: false }
    ])
  })

  it('keeps the first 512 characters of a longer User-Agent', async () => {
    const { app } = await buildTestApp()
    const token = await loginToken(app, { headers: { 'user-agent': `Mozilla/5.0 ${'x'.repeat(5000)}` } })
    const [session] = (await sessions(app, token)).json<{ sessions: SessionBody[] }>().sessions
    expect(session?.userAgent).toBe(`Mozilla/5.0 ${'x'.repeat(500)}`)
  })

  it('records the client address that TRUST_PROXY gives, not the proxy\'s, and ignores X-Forwarded-For otherwise', async () => {
    const behindProxy = await buildTestApp({ config: { TRUST_PROXY: '127.0.0.1' } })
    const direct = await buildTestApp()
    for (const [{ app }, address] of [[behindProxy, '198.51.100.9'], [direct, '127.0.0.1']] as const) {
      const token = await loginToken(app, { headers: { 'x-forwarded-for': '198.51.100.9' } })
      const [session] = (await sessions(app, token)).json<{ sessions: SessionBody[] }>().sessions
      expect(session?.address).toBe(address)
    }
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
    expectChallenge(missing, 401, 'Bearer')
    const token = await loginToken(app)
    clock.advanceSeconds(30)
    for (const presented of [token, 'C'.repeat(32)]) {
      const response = await sessions(app, presented)
      expectChallenge(response, 401, 'Bearer error="invalid_token"')
    }
  })
})
