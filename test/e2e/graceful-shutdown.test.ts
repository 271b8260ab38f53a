import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../src/users/users-file.js'
import { httpClient } from '../helpers/http.js'
import { listeningUrl, spawnServer, type ServerProcess } from '../helpers/server-process.js'
import { waitFor } from '../helpers/wait-for.js'

/** What one request got: a complete answer, or a connection error (and whether a status line had come). */
type Outcome =
  | { kind: 'response', status: number, body: string, startedAt: number, endedAt: number }
  | { kind: 'error', code: string, gotResponse: boolean, startedAt: number, endedAt: number }

/** GET /business/data on a connection of its own (no agent, `Connection: close`), read to its end. */
function getData (baseUrl: string, token: string, timeoutMs = 5000): Promise<Outcome> {
  const { hostname, port } = new URL(baseUrl)
  const startedAt = Date.now()
  return new Promise((resolve) => {
    let gotResponse = false
    let settled = false
    const settle = (outcome: Outcome) => {
      if (!settled) resolve(outcome)
      settled = true
    }
    const fail = (err: NodeJS.ErrnoException) => settle({ kind: 'error', code: err.code ?? err.message, gotResponse, startedAt, endedAt: Date.now() })
    const req = httpRequest({
      hostname,
      port,
      path: '/business/data',
      agent: false,
      headers: { authorization: `Bearer ${token}`, connection: 'close' }
    })
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })))
    req.on('error', fail)
    req.on('response', (response) => {
      gotResponse = true
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('error', fail)
      response.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ABORTED' })))
      response.on('end', () => settle({ kind: 'response', status: response.statusCode ?? 0, body, startedAt, endedAt: Date.now() }))
    })
    req.end()
  })
}

/** Resolves with the exit code, or with 'timeout' when the process is still running after `ms`. */
function exitWithin (server: ServerProcess, ms: number): Promise<number | null | 'timeout'> {
  return Promise.race([server.exited, sleep(ms, 'timeout' as const)])
}

function parse (body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

describe('graceful shutdown of the server process', () => {
  it('finishes the requests it took, refuses new connections, and exits 0 on SIGTERM under load', async () => {
    const server = spawnServer({ PORT: '0', LOG_LEVEL: 'info' })
    const baseUrl = await listeningUrl(server)
    const login = await httpClient(baseUrl).login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login.status).toBe(200)
    const token: string = login.body.token

    const outcomes: Outcome[] = []
    let signalAt = Number.POSITIVE_INFINITY
    // Back to back on fresh connections until one is refused: the process no longer listens.
    const hardStop = Date.now() + 20_000
    const loop = async (): Promise<Outcome | undefined> => {
      while (Date.now() < hardStop) {
        const outcome = await getData(baseUrl, token)
        outcomes.push(outcome)
        if (outcome.kind === 'error' && outcome.code === 'ECONNREFUSED') return outcome
      }
      return undefined
    }
    const loops = Array.from({ length: 8 }, loop)

    await waitFor(() => outcomes.length >= 200, { timeoutMs: 15_000, intervalMs: 10, what: '200 answers before the signal' })
    signalAt = Date.now()
    server.child.kill('SIGTERM')

    const lastOutcomes = await Promise.all(loops)
    expect(await exitWithin(server, 12_000)).toBe(0)

    // Each loop ended on a refused connection, after the signal.
    for (const last of lastOutcomes) expect(last).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' })

    const responses = outcomes.filter((outcome) => outcome.kind === 'response')
    const errors = outcomes.filter((outcome) => outcome.kind === 'error')
    expect(responses.filter((response) => response.status === 200).length).toBeGreaterThanOrEqual(200)

    // Every answer is complete and valid: the data, or Fastify's 503 for a request met while closing.
    for (const response of responses) {
      if (response.status === 200) {
        expect(parse(response.body)).toMatchObject({ data: { user: DEMO_USERNAME } })
      } else {
        expect(response.status, response.body).toBe(503)
        expect(response.startedAt).toBeGreaterThanOrEqual(signalAt - 50)
        expect(parse(response.body)).toMatchObject({ statusCode: 503, error: expect.any(String), message: expect.any(String) })
      }
    }
    // Before the signal, every request was answered 200.
    for (const outcome of outcomes.filter((o) => o.endedAt < signalAt)) expect(outcome).toMatchObject({ kind: 'response', status: 200 })

    // The only failures: connections refused or reset before any answer, once the signal was sent.
    for (const error of errors) {
      expect(error.code, JSON.stringify(error)).toMatch(/^(ECONNREFUSED|ECONNRESET)$/)
      expect(error.gotResponse, JSON.stringify(error)).toBe(false)
      expect(error.endedAt).toBeGreaterThanOrEqual(signalAt)
    }

    expect(server.stdout()).toMatch(/"signal":"SIGTERM".*"msg":"closing"|"msg":"closing".*"signal":"SIGTERM"/)
    expect(server.stdout()).not.toContain(token)
  }, 60_000)

  it('exits at once on a second signal while a request holds the close back', async () => {
    const server = spawnServer({ PORT: '0', LOG_LEVEL: 'info' })
    const { hostname, port } = new URL(await listeningUrl(server))

    // A login whose body never completes: the server waits for it, so close() cannot finish.
    const socket = connect(Number(port), hostname)
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username":')
    await waitFor(() => server.stdout().includes('"url":"/auth/login"'), { intervalMs: 10, what: 'the server to take the request' })

    server.child.kill('SIGTERM')
    await waitFor(() => server.stdout().includes('"msg":"closing"'), { intervalMs: 10, what: 'the closing line' })
    // Still closing: the request holds it back (close-with-grace's own deadline is 10 s).
    expect(await exitWithin(server, 500)).toBe('timeout')

    const secondAt = Date.now()
    server.child.kill('SIGINT')
    // close-with-grace exits 1 on a second signal, without waiting for the request.
    expect(await exitWithin(server, 3000)).toBe(1)
    expect(Date.now() - secondAt).toBeLessThan(3000)
    expect(server.stderr()).toContain('second SIGINT, exiting')
    socket.destroy()
  }, 30_000)
})
