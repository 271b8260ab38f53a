import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { onTestFinished } from 'vitest'
import { buildApp, type BuildAppOptions } from '../../src/app.js'
import { loadConfig, type Config, type ConfigSource } from '../../src/config.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../src/users/users-file.js'
import { FakeClock } from './fake-clock.js'

export { DEMO_PASSWORD, DEMO_USERNAME }

export interface TestApp {
  app: FastifyInstance
  clock: FakeClock
  /** Every log line the app wrote, parsed: a live array, so it may be destructured early. */
  logs: Array<Record<string, unknown>>
  /** The raw text of every log line, to search for secrets. */
  rawLogs: () => string
}

/**
 * Settings every test app starts from: every log line (to search them for secrets), and
 * login throttling out of the way of tests that log in often; the throttling tests set
 * their own limits.
 */
const TEST_DEFAULTS = { LOG_LEVEL: 'trace', LOGIN_MAX_PER_IP: 10_000, LOGIN_MAX_PER_USERNAME: 10_000 }

/** A Config, validated as the server's is, from the test settings and `settings` (as an environment gives them). */
export function testConfig (settings: ConfigSource = {}): Config {
  return loadConfig({ ...TEST_DEFAULTS, ...settings })
}

export interface TestAppOptions extends Omit<BuildAppOptions, 'clock' | 'logger' | 'config'> {
  /** Settings beyond the test defaults, as an environment gives them (see testConfig). */
  config?: ConfigSource
  clock?: FakeClock
}

/** The real app (buildApp, production options) on a fake clock, closed when the test ends. */
export async function buildTestApp (options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new FakeClock()
  const lines: string[] = []
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) {
        if (line === '') continue
        lines.push(line)
        logs.push(JSON.parse(line) as Record<string, unknown>)
      }
      callback()
    }
  })
  const app = await buildApp({ ...options, config: testConfig(options.config), clock, logger: { stream } })
  onTestFinished(() => app.close())
  return {
    app,
    clock,
    logs,
    rawLogs: () => lines.join('\n')
  }
}

/**
 * Where a login comes from: its headers (light-my-request sends `User-Agent: lightMyRequest`
 * unless told otherwise; `undefined` sends none) and its socket's address (127.0.0.1).
 */
export interface LoginOrigin {
  headers?: Record<string, string | undefined>
  remoteAddress?: string
}

export function login (app: FastifyInstance, username = DEMO_USERNAME, password = DEMO_PASSWORD, { headers, remoteAddress }: LoginOrigin = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, headers, remoteAddress })
}

/** Logs the demo user in and returns the token. */
export async function loginToken (app: FastifyInstance, origin: LoginOrigin = {}): Promise<string> {
  const response = await login(app, DEMO_USERNAME, DEMO_PASSWORD, origin)
  if (response.statusCode !== 200) throw new Error(`login answered ${response.statusCode}: ${response.body}`)
  return response.json<{ token: string }>().token
}

export function getData (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/business/data', headers: { authorization: `Bearer ${token}` } })
}
