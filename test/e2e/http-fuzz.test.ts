import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigSource } from '../../src/config.js'
import { hashPassword } from '../../src/users/password.js'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { describeRequest, rawRequest, sendRaw, type Endpoint, type RawRequest, type SendOutcome } from '../helpers/fuzz.js'
import { httpClient, listenOnFreePort } from '../helpers/http.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { findEncodedSecret } from '../helpers/secret-encodings.js'

/** Every route the app serves with METRICS and FORWARD_AUTH on, validateToken (in-process only) included. */
const ENDPOINTS: Endpoint[] = [
  ['POST', '/auth/login'], ['POST', '/auth/logout'], ['POST', '/auth/logout-all'], ['GET', '/auth/sessions'],
  ['POST', '/auth/validateToken'], ['GET', '/auth/verify'], ['GET', '/business/data'], ['POST', '/login'], ['GET', '/data'],
  ['GET', '/health'], ['GET', '/health/ready'], ['GET', '/metrics'],
  ['GET', '/docs'], ['GET', '/docs/json'], ['GET', '/docs/yaml'], ['GET', '/docs/static/index.html']
].map(([method, path]) => ({ method: method!, path: path! }))

/** A second user, whose tokens and password the fuzzer gets: logout-all with them never touches the demo user's. */
const FUZZ_USERNAME = 'fuzz@example.com'
const FUZZ_PASSWORD = 'fuzz-password-8f3a'

const REQUESTS = 400

function contentTypeOf (headers: Record<string, unknown>): string {
  return String(headers['content-type'] ?? '').toLowerCase()
}

/** The properties of one answer; throws with the request when one does not hold. */
function checkOutcome (raw: RawRequest, outcome: SendOutcome, issuedTokens: Set<string>): void {
  const where = describeRequest(raw)
  if (outcome.kind === 'connection-error') {
    // Fastify's default clientErrorHandler (a request Node cannot parse: 400, or headers too large: 431)
    // writes a body even when the method was HEAD, which Node's client then reads as a malformed next response.
    const headClientError = raw.method === 'HEAD' && outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500
    expect(headClientError, `no complete answer (${outcome.code}, status ${outcome.status}) to ${where}`).toBe(true)
    return
  }
  const { status, headers, body } = outcome.response
  expect(status, `${status} ${body.toString().slice(0, 200)} for ${where}`).toBeLessThan(500)
  expect(status, where).toBeGreaterThanOrEqual(200)
  const isJson = contentTypeOf(headers).startsWith('application/json')
  if (body.length > 0 && isJson) {
    let parsed: unknown
    expect(() => { parsed = JSON.parse(body.toString('utf8')) }, `unparseable JSON body for ${where}`).not.toThrow()
    if (status >= 400) {
      expect(parsed, `error body of ${where}`).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String) })
    }
    const token = (parsed as { token?: unknown } | null)?.token
    if (status === 200 && typeof token === 'string') issuedTokens.add(token)
  }
  if (status >= 400 && body.length > 0) {
    expect(contentTypeOf(headers), `error answer without JSON for ${where}`).toMatch(/^application\/json/)
  }
  // The internal validateToken answers no one on the network, whatever the path's spelling.
  expect(body.toString('latin1'), where).not.toContain('"authenticated"')
}

/** The two users of the fuzzed service, in whichever store holds them. */
async function fuzzUsers () {
  return [
    { username: DEMO_USERNAME, passwordHash: await hashPassword(DEMO_PASSWORD) },
    { username: FUZZ_USERNAME, passwordHash: await hashPassword(FUZZ_PASSWORD) }
  ]
}

const USER_STORES: Array<[string, () => Promise<ConfigSource>]> = [
  ['memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-auth-fuzz-'))
    const usersFile = join(dir, 'users.json')
    writeFileSync(usersFile, JSON.stringify(await fuzzUsers()))
    return { USERS_FILE: usersFile }
  }],
  // PostgreSQL refuses some text the memory store takes (U+0000): the fuzzer reaches it too.
  ['postgres', async () => {
    const store = new PostgresUserStore({ connectionString: schema.url })
    for (const user of await fuzzUsers()) await store.add(user.username, user.passwordHash)
    await store.close()
    return { USER_STORE: 'postgres', DATABASE_URL: schema.url }
  }]
]

let schema: TestSchema
beforeAll(async () => { schema = await createTestSchema() })
afterAll(async () => { await schema.drop() })

describe.each(USER_STORES)('the HTTP surface under random requests (%s user store)', (_name, userStoreConfig) => {
  it(`answers ${REQUESTS} random requests without a 5xx or an error line, in Fastify's error shape, and keeps serving`, async () => {
    const testApp = await buildTestApp({
      config: { ...await userStoreConfig(), METRICS: true, FORWARD_AUTH: true, LOGIN_MAX_PER_IP: 100_000, LOGIN_MAX_PER_USERNAME: 100_000 }
    })
    const { app, rawLogs } = testApp
    const baseUrl = await listenOnFreePort(app)
    const client = httpClient(baseUrl)

    // The demo user's token is kept out of the fuzzer's hands; the fuzz user's tokens are its to use and revoke.
    const kept = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(kept.status).toBe(200)
    const fuzzTokens: string[] = []
    for (let i = 0; i < 3; i++) fuzzTokens.push((await client.login(FUZZ_USERNAME, FUZZ_PASSWORD)).body.token)

    const issuedTokens = new Set<string>()
    const statuses = new Map<number, number>()
    let sent = 0
    let sentOnSocket = 0
    await fc.assert(
      fc.asyncProperty(
        rawRequest({ endpoints: ENDPOINTS, tokens: fuzzTokens, credentials: [{ username: FUZZ_USERNAME, password: FUZZ_PASSWORD }] }),
        async (raw) => {
          const linesBefore = testApp.logs.length
          const outcome = await sendRaw(baseUrl, raw)
          sent += 1
          if (outcome.wire === 'socket') sentOnSocket += 1
          if (outcome.kind === 'response') statuses.set(outcome.response.status, (statuses.get(outcome.response.status) ?? 0) + 1)
          checkOutcome(raw, outcome, issuedTokens)
          // Client input never makes the service fail inside: an error-level line (pino 50+) means it came close.
          const errorLines = testApp.logs.slice(linesBefore).filter((line) => (line.level as number) >= 50)
          expect(errorLines, `error-level lines for ${describeRequest(raw)}`).toEqual([])
        }
      ),
      // Bounded in time: on a slow machine fewer requests, never a hung suite.
      { numRuns: REQUESTS, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false }
    )
    expect(sent).toBeGreaterThan(REQUESTS / 4)
    // The fuzzer reached the handlers, not only the parsers and the 404 handler, and Node's parser with what no client sends.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0)
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0)
    expect(sentOnSocket).toBeGreaterThan(0)

    // The process still serves, and the token obtained before still works.
    expect(await client.call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(await client.data(kept.body.token)).toMatchObject({ status: 200, body: { data: { user: DEMO_USERNAME } } })

    // Nothing failed inside (an error-level line means a 500 was close), and no secret reached a log
    // line in any form: as it is, in hex, base64 or as the byte list of a logged Buffer.
    // (testApp.logs, not destructured: it is a getter over the lines written so far.)
    const logs = testApp.logs
    expect(logs.length).toBeGreaterThan(REQUESTS)
    expect(logs.filter((line) => (line.level as number) >= 50)).toEqual([])
    const text = rawLogs()
    for (const secret of [kept.body.token, ...fuzzTokens, ...issuedTokens, FUZZ_PASSWORD, DEMO_PASSWORD]) {
      expect(findEncodedSecret(text, secret), 'a secret in the logs').toBeUndefined()
    }
  }, 120_000)
})
