import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestApp, loginToken } from '../helpers/build-app.js'
import { listenOnFreePort } from '../helpers/http.js'

const APP_ORIGIN = 'https://app.example.com'
const DEV_ORIGIN = 'http://127.0.0.1:5173'
const CORS_ORIGINS = `${APP_ORIGIN}, ${DEV_ORIGIN}`

/** Origins a browser could send that must not be mistaken for an allowed one. */
const OTHER_ORIGINS = [
  'https://evil.example.com',
  'http://app.example.com', // another scheme
  'https://app.example.com:8443', // another port
  'https://app.example.com.evil.example', // a suffix
  'null' // sandboxed frames, file: pages
]

function corsHeaders (headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')))
}

function preflight (app: Awaited<ReturnType<typeof buildTestApp>>['app'], origin: string, url = '/auth/login', method = 'POST') {
  return app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' }
  })
}

function expectAllowed (response: LightMyRequestResponse, origin: string): void {
  expect(response.headers['access-control-allow-origin']).toBe(origin)
  expect(response.headers['access-control-allow-credentials']).toBeUndefined()
  expect(response.headers.vary).toMatch(/\bOrigin\b/i)
}

describe('CORS', () => {
  describe('without CORS_ORIGINS', () => {
    it('answers a preflight 404 and adds no CORS header anywhere, as before', async () => {
      const { app } = await buildTestApp()

      const answer = await preflight(app, APP_ORIGIN)
      expect(answer.statusCode).toBe(404)
      expect(corsHeaders(answer.headers)).toEqual({})

      const login = await app.inject({ method: 'POST', url: '/auth/login', headers: { origin: APP_ORIGIN }, payload: { username: 'a@example.com', password: 'x' } })
      expect(login.statusCode).toBe(401)
      expect(corsHeaders(login.headers)).toEqual({})
    })
  })

  describe('with CORS_ORIGINS', () => {
    it('answers the preflight of an allowed origin 204, with its origin, the methods, the headers a client sends, and no credentials', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS } })

      for (const [origin, url, method] of [[APP_ORIGIN, '/auth/login', 'POST'], [DEV_ORIGIN, '/business/data', 'GET'], [APP_ORIGIN, '/data', 'GET']] as const) {
        const answer = await preflight(app, origin, url, method)
        expect(answer.statusCode, `${origin} ${url}`).toBe(204)
        expectAllowed(answer, origin)
        expect(answer.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, DELETE')
        expect(answer.headers['access-control-allow-headers']).toBe('Authorization, token, Content-Type')
        expect(answer.headers['access-control-max-age']).toBe('600')
        expect(answer.body).toBe('')
      }
    })

    it('lets an allowed origin end one of its user\'s sessions: DELETE passes the preflight', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS } })
      const token = await loginToken(app)
      const [session] = (await app.inject({ method: 'GET', url: '/auth/sessions', headers: { token } })).json<{ sessions: Array<{ id: string }> }>().sessions

      const answer = await preflight(app, APP_ORIGIN, `/auth/sessions/${session!.id}`, 'DELETE')
      expect(answer.statusCode).toBe(204)
      expectAllowed(answer, APP_ORIGIN)
      expect(answer.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, DELETE')
      expect(answer.headers['access-control-allow-headers']).toBe('Authorization, token, Content-Type')
      expect(corsHeaders((await preflight(app, OTHER_ORIGINS[0]!, `/auth/sessions/${session!.id}`, 'DELETE')).headers)).toEqual({})

      const ended = await app.inject({ method: 'DELETE', url: `/auth/sessions/${session!.id}`, headers: { origin: APP_ORIGIN, authorization: `Bearer ${token}` } })
      expect(ended.statusCode).toBe(204)
      expectAllowed(ended, APP_ORIGIN)
    })

    it('lets an allowed origin read the answers, the headers of a refusal included', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS, LOGIN_MAX_PER_IP: 2 } })
      const token = await loginToken(app)

      const data = await app.inject({ method: 'GET', url: '/business/data', headers: { origin: APP_ORIGIN, authorization: `Bearer ${token}` } })
      expect(data.statusCode).toBe(200)
      expectAllowed(data, APP_ORIGIN)
      expect(data.headers['access-control-expose-headers']).toBe('Retry-After, WWW-Authenticate')

      const refused = await app.inject({ method: 'GET', url: '/business/data', headers: { origin: APP_ORIGIN, token: 'x'.repeat(32) } })
      expect(refused.statusCode).toBe(401)
      expectAllowed(refused, APP_ORIGIN)
      expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
      expect(refused.headers['access-control-expose-headers']).toBe('Retry-After, WWW-Authenticate')

      // The login above was the first of two allowed; the third attempt is throttled.
      await app.inject({ method: 'POST', url: '/auth/login', headers: { origin: APP_ORIGIN }, payload: { username: 'a@example.com', password: 'x' } })
      const throttled = await app.inject({ method: 'POST', url: '/auth/login', headers: { origin: DEV_ORIGIN }, payload: { username: 'a@example.com', password: 'x' } })
      expect(throttled.statusCode).toBe(429)
      expectAllowed(throttled, DEV_ORIGIN)
      expect(throttled.headers['retry-after']).toBeDefined()
      expect(throttled.headers['access-control-expose-headers']).toBe('Retry-After, WWW-Authenticate')
    })

    it('adds no CORS header for any other origin, and answers its preflight 404', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS } })
      const token = await loginToken(app)

      for (const origin of OTHER_ORIGINS) {
        const answer = await preflight(app, origin)
        expect(answer.statusCode, origin).toBe(404)
        expect(corsHeaders(answer.headers), origin).toEqual({})

        // The server still answers (CORS is the browser's check), but gives the page no right to read it.
        const data = await app.inject({ method: 'GET', url: '/business/data', headers: { origin, authorization: `Bearer ${token}` } })
        expect(data.statusCode, origin).toBe(200)
        expect(corsHeaders(data.headers), origin).toEqual({})
      }
    })

    it('adds nothing to requests without an Origin, such as curl\'s', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS } })
      const health = await app.inject({ method: 'GET', url: '/health' })
      expect(health.statusCode).toBe(200)
      expect(corsHeaders(health.headers)).toEqual({})
      const options = await app.inject({ method: 'OPTIONS', url: '/auth/login' })
      expect(options.statusCode).toBe(404)
    })

    it('never answers a preflight over the network with * or credentials; the internal validateToken stays a 404 there', async () => {
      const { app } = await buildTestApp({ config: { CORS_ORIGINS } })
      const baseUrl = await listenOnFreePort(app)

      const answer = await fetch(`${baseUrl}/auth/login`, {
        method: 'OPTIONS',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
      })
      expect(answer.status).toBe(204)
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN)
      expect(answer.headers.get('access-control-allow-headers')).toBe('Authorization, token, Content-Type')
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull()

      const refused = await fetch(`${baseUrl}/auth/login`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' }
      })
      expect(refused.status).toBe(404)
      expect([...refused.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([])

      const login = await fetch(`${baseUrl}/auth/login`, {
        method: 'POST',
        headers: { origin: APP_ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'jsf.fusco@gmail.com', password: 'postman' })
      })
      expect(login.status).toBe(200)
      expect(login.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN)
      const { token } = await login.json() as { token: string }

      const internal = await fetch(`${baseUrl}/auth/validateToken`, {
        method: 'POST',
        headers: { origin: APP_ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ token })
      })
      expect(internal.status).toBe(404)
      // The business service still reaches it in-process, Origin or not.
      const data = await fetch(`${baseUrl}/business/data`, { headers: { origin: APP_ORIGIN, authorization: `Bearer ${token}` } })
      expect(data.status).toBe(200)
    })
  })
})
