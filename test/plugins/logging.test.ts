import type { FastifyInstance, InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { digestToken } from '../../src/tokens/token.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME, getData, loginToken, type TestApp } from '../helpers/build-app.js'
import { exchangeRaw, listenOnFreePort } from '../helpers/http.js'
import { encodedForms, findEncodedSecret } from '../helpers/secret-encodings.js'

const MALFORMED_PASSWORD = 'hunter2-secret'
const WRONG_PASSWORD = 'wrong-Secret-Passw0rd'
/** What a user typed in the username field by mistake: it must not be logged when no such user exists. */
const TYPED_AS_USERNAME = 'my-Real-Passw0rd-typed-as-username'

/** The secrets a walk met, to look for in the logs. */
class Secrets {
  readonly passwords = new Set<string>([DEMO_PASSWORD, WRONG_PASSWORD, MALFORMED_PASSWORD, TYPED_AS_USERNAME])
  readonly tokens = new Set<string>()

  addToken (token: string): string {
    this.tokens.add(token)
    return token
  }

  /** Every string that must never appear in a log line. */
  all (): string[] {
    return [
      ...this.passwords,
      ...this.tokens,
      ...[...this.tokens].map((token) => digestToken(token)),
      '$argon2'
    ]
  }
}

function expectNoSecretIn (raw: string, secrets: Secrets): void {
  expect(raw.length).toBeGreaterThan(0)
  for (const secret of secrets.all()) {
    const lines = raw.split('\n').filter((line) => line.includes(secret))
    expect(lines, `log lines containing ${JSON.stringify(secret)}`).toEqual([])
  }
}

type Step = (app: FastifyInstance, secrets: Secrets) => Promise<unknown>

const json = (payload: string): InjectOptions => ({
  method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload
})

async function freshToken (app: FastifyInstance, secrets: Secrets): Promise<string> {
  return secrets.addToken(await loginToken(app))
}

/** Each route and each way of calling it badly, one scenario at a time. */
const scenarios: Array<[string, Step]> = [
  ['a successful login', async (app, secrets) => freshToken(app, secrets)],
  ['a successful login on the original path, with a query string', async (app, secrets) => {
    const response = await app.inject({ method: 'POST', url: '/login?password=postman', payload: { username: DEMO_USERNAME, password: DEMO_PASSWORD } })
    secrets.addToken(response.json<{ token: string }>().token)
  }],
  ['a wrong password', async (app) => app.inject({ method: 'POST', url: '/auth/login', payload: { username: DEMO_USERNAME, password: WRONG_PASSWORD } })],
  ['an unknown user', async (app) => app.inject({ method: 'POST', url: '/auth/login', payload: { username: TYPED_AS_USERNAME, password: WRONG_PASSWORD } })],
  ['truncated JSON', async (app) => app.inject(json(`{"password": "${MALFORMED_PASSWORD}`))],
  ['JSON with an unquoted password', async (app) => app.inject(json(`{"username": "${DEMO_USERNAME}", "password": ${MALFORMED_PASSWORD}}`))],
  ['JSON with a trailing garbage', async (app) => app.inject(json(`{"username": "${DEMO_USERNAME}", "password": "${MALFORMED_PASSWORD}"} ${MALFORMED_PASSWORD}`))],
  ['a form body', async (app) => app.inject({
    method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=${DEMO_USERNAME}&password=${MALFORMED_PASSWORD}`
  })],
  ['a text/plain body', async (app) => app.inject({
    method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/plain' }, payload: `{"username": "${DEMO_USERNAME}", "password": "${MALFORMED_PASSWORD}"}`
  })],
  ['a password where the username goes, too long', async (app) => app.inject({
    method: 'POST', url: '/auth/login', payload: { username: MALFORMED_PASSWORD.repeat(20), password: MALFORMED_PASSWORD }
  })],
  ['a password over the length limit', async (app) => app.inject({
    method: 'POST', url: '/auth/login', payload: { username: DEMO_USERNAME, password: MALFORMED_PASSWORD.repeat(80) }
  })],
  ['a number as username', async (app) => app.inject({
    method: 'POST', url: '/auth/login', payload: { username: 42, password: MALFORMED_PASSWORD }
  })],
  ['extra fields', async (app) => app.inject({
    method: 'POST', url: '/auth/login', payload: { username: DEMO_USERNAME, password: WRONG_PASSWORD, token: MALFORMED_PASSWORD }
  })],
  ['data with the Bearer header', async (app, secrets) => getData(app, await freshToken(app, secrets))],
  ['data with the token header', async (app, secrets) => app.inject({ method: 'GET', url: '/business/data', headers: { token: await freshToken(app, secrets) } })],
  ['data on the original path', async (app, secrets) => app.inject({ method: 'GET', url: '/data', headers: { token: await freshToken(app, secrets) } })],
  ['data with the token in the query string', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'GET', url: `/business/data?token=${token}` })
    await app.inject({ method: 'GET', url: `/data?access_token=${token}`, headers: { token } })
  }],
  ['data with an unknown token', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    return getData(app, secrets.addToken(token.split('').reverse().join('')))
  }],
  ['data with conflicting headers', async (app, secrets) => app.inject({
    method: 'GET', url: '/business/data', headers: { authorization: `Bearer ${await freshToken(app, secrets)}`, token: await freshToken(app, secrets) }
  })],
  ['data with another scheme', async (app, secrets) => app.inject({
    method: 'GET', url: '/business/data', headers: { authorization: `Basic ${await freshToken(app, secrets)}` }
  })],
  ['sessions', async (app, secrets) => app.inject({ method: 'GET', url: '/auth/sessions', headers: { authorization: `Bearer ${await freshToken(app, secrets)}` } })],
  ['logout', async (app, secrets) => app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: `Bearer ${await freshToken(app, secrets)}` } })],
  ['logout with the token in the query string', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'POST', url: `/auth/logout?token=${token}`, headers: { token } })
  }],
  ['logout with a revoked token', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
  }],
  ['logout-all', async (app, secrets) => app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token: await freshToken(app, secrets) } })],
  ['validateToken', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'POST', url: '/auth/validateToken', payload: { token } })
    await app.inject({ method: 'POST', url: '/auth/validateToken', payload: { token: token.slice(1) } })
  }],
  ['an unknown route with the token in the query string', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'GET', url: `/business/other?token=${token}` })
  }],
  ['a wrong method on a route with the token in the query string', async (app, secrets) => {
    const token = await freshToken(app, secrets)
    await app.inject({ method: 'GET', url: `/auth/logout?token=${token}` })
  }],
  ['health and readiness', async (app) => {
    await app.inject({ method: 'GET', url: '/health' })
    await app.inject({ method: 'GET', url: '/health/ready' })
  }]
]

describe('logging', () => {
  describe('writes no password, token, token digest or password hash', () => {
    it.each(scenarios)('for %s', async (_name, step) => {
      const testApp = await buildTestApp()
      const secrets = new Secrets()
      await step(testApp.app, secrets)
      expectNoSecretIn(testApp.rawLogs(), secrets)
    })

    it('for a walk through every route in a row, at trace level', async () => {
      const testApp = await buildTestApp()
      expect(testApp.app.log.level).toBe('trace')
      const secrets = new Secrets()
      for (const [, step] of scenarios) await step(testApp.app, secrets)
      expect(secrets.tokens.size).toBeGreaterThan(10)
      expectNoSecretIn(testApp.rawLogs(), secrets)
      // Every request was logged: the absence of secrets is not the absence of lines.
      expect(testApp.logs.filter((line) => line.msg === 'incoming request').length).toBeGreaterThan(scenarios.length)
    })

    it('finds a secret when one is written (the check itself works)', async () => {
      const testApp = await buildTestApp()
      const secrets = new Secrets()
      const token = await freshToken(testApp.app, secrets)
      testApp.app.log.info({ leaked: `x${token}x` }, 'a careless line')
      expect(() => expectNoSecretIn(testApp.rawLogs(), secrets)).toThrow()
    })

    describe('for a request Node cannot parse, at trace level, in no encoding', () => {
      /** Requests that Node's parser refuses after reading the credentials: each gets Fastify's client-error answer and trace line. */
      const malformed = (token: string, password: string): Array<[string, string]> => {
        const body = JSON.stringify({ username: DEMO_USERNAME, password })
        const start = `POST /auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\ntoken: ${token}\r\nContent-Type: application/json\r\n`
        return [
          ['a control character in a header value', `${start}X-Bad: a\u0001b\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
          ['a Content-Length that is not a number', `${start}Content-Length: ${body.length}x\r\n\r\n${body}`],
          ['both Content-Length and chunked', `${start}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`],
          ['a chunk size that is not hex', `${start}Transfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`],
          ['a space before a header colon', `${start}X-Bad : 1\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
          ['headers over the size limit', `${start}X-Big: ${'v'.repeat(20_000)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
          ['a bad request line', `POST /auth/login?password=${password} HTTP/9\r\nAuthorization: Bearer ${token}\r\n\r\n${body}`]
        ]
      }

      it('writes neither the token nor the password of any', async () => {
        const testApp = await buildTestApp()
        expect(testApp.app.log.level).toBe('trace')
        const baseUrl = await listenOnFreePort(testApp.app)
        const token = await loginToken(testApp.app)
        for (const [name, request] of malformed(token, DEMO_PASSWORD)) {
          const answer = (await exchangeRaw(baseUrl, request)).toString('latin1')
          expect(answer, name).toMatch(/^HTTP\/1\.1 4\d\d /)
        }
        const clientErrors = testApp.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('client '))
        expect(clientErrors.length).toBeGreaterThanOrEqual(malformed(token, DEMO_PASSWORD).length)
        const raw = testApp.rawLogs()
        for (const secret of [token, DEMO_PASSWORD, digestToken(token)]) {
          expect(findEncodedSecret(raw, secret), `a form of ${secret} in the logs`).toBeUndefined()
        }
      })

      it('finds a secret in any of its forms when one is written (the check itself works)', () => {
        const secret = 'a-secret-of-some-length'
        for (const form of encodedForms(secret)) expect(findEncodedSecret(`{"x":"..${form}.."}`, secret)).toBe(form)
        const inBuffer = JSON.stringify({ rawPacket: Buffer.from(`Authorization: Bearer ${secret}\r\n`) })
        expect(findEncodedSecret(inBuffer, secret)).toBeDefined()
        for (const prefix of ['', 'x', 'xy']) {
          expect(findEncodedSecret(Buffer.from(prefix + secret + 'tail').toString('base64'), secret)).toBeDefined()
        }
      })
    })

    it('redacts secrets under the usual field names', async () => {
      const testApp = await buildTestApp()
      testApp.app.log.info({ password: MALFORMED_PASSWORD, token: MALFORMED_PASSWORD, user: { password: MALFORMED_PASSWORD, passwordHash: '$argon2id$x' } }, 'fields')
      const raw = testApp.rawLogs()
      expect(raw).toContain('[redacted]')
      expect(raw).not.toContain(MALFORMED_PASSWORD)
      expect(raw).not.toContain('$argon2')
    })
  })

  describe('records what happened, with the username', () => {
    function linesWith (testApp: TestApp, msg: string): Array<Record<string, unknown>> {
      return testApp.logs.filter((line) => line.msg === msg)
    }

    it('logs a successful login with the username', async () => {
      const testApp = await buildTestApp()
      await loginToken(testApp.app)
      const lines = linesWith(testApp, 'login succeeded')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 30, username: DEMO_USERNAME, session: expect.any(String) })
      expect(linesWith(testApp, 'login failed')).toEqual([])
    })

    it('logs a failed login with the username when the user exists', async () => {
      const testApp = await buildTestApp()
      const response = await testApp.app.inject({ method: 'POST', url: '/auth/login', payload: { username: DEMO_USERNAME.toUpperCase(), password: WRONG_PASSWORD } })
      expect(response.statusCode).toBe(401)
      const lines = linesWith(testApp, 'login failed')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 30, username: DEMO_USERNAME, reason: 'wrong-password' })
      expect(linesWith(testApp, 'login succeeded')).toEqual([])
    })

    it('logs a failed login without the username when the user does not exist', async () => {
      const testApp = await buildTestApp()
      const response = await testApp.app.inject({ method: 'POST', url: '/auth/login', payload: { username: TYPED_AS_USERNAME, password: WRONG_PASSWORD } })
      expect(response.statusCode).toBe(401)
      const lines = linesWith(testApp, 'login failed')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ reason: 'unknown-user' })
      expect(lines[0]).not.toHaveProperty('username')
      expect(testApp.rawLogs()).not.toContain(TYPED_AS_USERNAME)
    })

    it('logs no login line for a request refused before authentication', async () => {
      const testApp = await buildTestApp()
      await testApp.app.inject(json(`{"password": "${MALFORMED_PASSWORD}`))
      expect(linesWith(testApp, 'login failed')).toEqual([])
      expect(linesWith(testApp, 'login succeeded')).toEqual([])
    })

    it('logs a logout with the username', async () => {
      const testApp = await buildTestApp()
      const token = await loginToken(testApp.app)
      await testApp.app.inject({ method: 'POST', url: '/auth/logout', headers: { token } })
      const lines = linesWith(testApp, 'logged out')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 30, username: DEMO_USERNAME, session: expect.any(String) })
    })

    it('logs no logout for a token that was not valid', async () => {
      const testApp = await buildTestApp()
      const response = await testApp.app.inject({ method: 'POST', url: '/auth/logout', headers: { token: 'Z'.repeat(32) } })
      expect(response.statusCode).toBe(401)
      expect(linesWith(testApp, 'logged out')).toEqual([])
    })

    it('logs a logout-all with the username and the count', async () => {
      const testApp = await buildTestApp()
      await loginToken(testApp.app)
      const token = await loginToken(testApp.app)
      await testApp.app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token } })
      const lines = linesWith(testApp, 'logged out everywhere')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 30, username: DEMO_USERNAME, revoked: 2 })
    })

    it('logs no logout-all without a valid token', async () => {
      const testApp = await buildTestApp()
      await testApp.app.inject({ method: 'POST', url: '/auth/logout-all' })
      expect(linesWith(testApp, 'logged out everywhere')).toEqual([])
    })

    it('logs request paths without their query string', async () => {
      const testApp = await buildTestApp()
      const token = await loginToken(testApp.app)
      await testApp.app.inject({ method: 'GET', url: `/business/data?token=${token}`, headers: { token } })
      const incoming = linesWith(testApp, 'incoming request').map((line) => (line.req as { url: string }).url)
      expect(incoming).toContain('/business/data')
      expect(incoming.every((url) => !url.includes('?'))).toBe(true)
    })
  })
})
