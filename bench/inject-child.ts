/**
 * Child process of the inject scenario, run as
 * `node --import <tsx loader> bench/inject-child.ts <calls> <rounds>`: the business
 * service's hop to the auth service taken apart, in a heap of its own, so that its
 * garbage collections are the hop's alone. Prints one JSON line (InjectReport) on stdout.
 *
 * Each kind of call runs `calls` times per round, 10 at a time, each caller yielding to
 * the event loop between calls as a server's requests do; rounds alternate the kinds, and
 * each kind's median round by CPU is reported:
 *
 * - `node:http ServerResponse`: Node's own response on a null socket, written and ended:
 *   the floor of any in-process HTTP emulation;
 * - light-my-request (the copy Fastify's inject uses) into a dispatch function that
 *   answers at once: what inject costs before Fastify runs;
 * - Fastify's inject into a bare app whose one route has validateToken's schemas;
 * - this service's validateToken, called exactly as the business service calls it
 *   (`validateThroughInject`), on the app of the compiled `dist/`, memory store;
 * - the same route of the same app through its router with a request and a response
 *   that are no Node streams (bench/fixtures/stream-free-dispatch.ts, a measuring stick
 *   the service never uses): what an in-process dispatch without streams would cost.
 */
import { ServerResponse, type IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import type * as AppModule from '../src/app.js'
import type * as ConfigModule from '../src/config.js'
import type * as BusinessModule from '../plugins/business/index.js'
import type * as ValidationSchemas from '../plugins/shared/token-validation.js'
import { dispatchWithoutStreams } from './fixtures/stream-free-dispatch.js'
import { medianBy } from './median.js'
import { fromDist } from './servers.js'

export interface InjectKindResult {
  name: string
  /** Process CPU (user + system, every thread: the collector's too) per call, µs. */
  cpuMicrosPerCall: number
  /** Time in garbage collection per 1000 calls, ms, and collections per 1000 calls. */
  gcMillisPer1000: number
  minorGcsPer1000: number
  majorGcsPer1000: number
}

export interface InjectReport {
  calls: number
  rounds: number
  kinds: InjectKindResult[]
}

const CONCURRENCY = 10
const ANSWER = JSON.stringify({ authenticated: true, username: 'jsf.fusco@gmail.com', expiresIn: 30 })

type Call = () => Promise<unknown>

/** Node's ServerResponse, as light-my-request makes one, without light-my-request. */
function serverResponseCall (): Call {
  const request = { method: 'POST', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as IncomingMessage
  return () => new Promise((resolve) => {
    const response = new ServerResponse(request)
    response.assignSocket(new Writable({ write (_chunk, _encoding, callback) { setImmediate(callback) } }) as never)
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(ANSWER.length) })
    response.end(ANSWER, () => resolve(undefined))
  })
}

interface InjectOptions { method: 'POST', url: string, headers: Record<string, string>, payload: string, validate: false }
type LightMyRequest = (dispatch: (req: IncomingMessage, res: ServerResponse) => void, options: InjectOptions, callback: (err: Error | null, res: { json (): unknown }) => void) => void

/** light-my-request, the very module Fastify's inject calls. */
function lightMyRequestCall (): Call {
  const lightMyRequest = createRequire(createRequire(import.meta.url).resolve('fastify'))('light-my-request') as LightMyRequest
  const options: InjectOptions = { method: 'POST', url: '/validateToken', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: 'x' }), validate: false }
  const dispatch = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(ANSWER.length) })
    res.end(ANSWER)
  }
  return () => new Promise((resolve, reject) => {
    lightMyRequest(dispatch, options, (err, res) => { if (err !== null) reject(err); else resolve(res.json()) })
  })
}

/** A null log stream: the apps log as the service does (pino at info), and the lines go nowhere. */
const discard = () => new Writable({ write (_chunk, _encoding, callback) { callback() } })

/** Fastify's inject into a bare app with validateToken's route shape: its schemas, its log level. */
async function bareFastifyCall (business: typeof BusinessModule, schemas: typeof ValidationSchemas): Promise<{ call: Call, app: FastifyInstance }> {
  const app = Fastify({ logger: { level: 'info', stream: discard() } })
  app.post('/validateToken', {
    logLevel: 'warn',
    schema: { body: schemas.ValidateTokenRequestSchema, response: { 200: schemas.ValidateTokenResponseSchema } }
  }, async () => JSON.parse(ANSWER) as unknown)
  await app.ready()
  return { app, call: async () => (await business.validateThroughInject(app, '/validateToken', 'x')).json() }
}

/** This service's own validateToken, with a live token of the demo user: through inject, and without streams. */
async function serviceCalls (business: typeof BusinessModule): Promise<{ call: Call, withoutStreams: Call, app: FastifyInstance }> {
  const { buildApp } = await fromDist<typeof AppModule>('src/app.js')
  const { loadConfig } = await fromDist<typeof ConfigModule>('src/config.js')
  const app = await buildApp({ config: loadConfig({}), logger: { stream: discard() } })
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'jsf.fusco@gmail.com', password: 'postman' } })
  if (login.statusCode !== 200) throw new Error(`inject: login answered ${login.statusCode}`)
  const token = login.json<{ token: string }>().token
  const body = JSON.stringify({ token })
  const accepted = (answer: { json: <T>() => T }) => {
    const validation = answer.json<{ authenticated: boolean }>()
    if (!validation.authenticated) throw new Error('inject: the service refused the token')
    return validation
  }
  return {
    app,
    call: async () => accepted(await business.validateThroughInject(app, '/auth/validateToken', token)),
    withoutStreams: async () => accepted(await dispatchWithoutStreams(app, '/auth/validateToken', body))
  }
}

const gcEntries: PerformanceEntry[] = []
const observer = new PerformanceObserver((list) => { gcEntries.push(...list.getEntries()) })
observer.observe({ entryTypes: ['gc'] })

async function measure (name: string, call: Call, calls: number): Promise<InjectKindResult> {
  let issued = 0
  const caller = async () => {
    while (issued < calls) {
      issued += 1
      await call()
      await nextTurn()
    }
  }
  const started = performance.now()
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: CONCURRENCY }, caller))
  const cpu = process.cpuUsage(before)
  const ended = performance.now()
  await nextTurn() // the observer's last entries
  const collections = gcEntries.filter((entry) => entry.startTime >= started && entry.startTime <= ended)
  const kind = (entry: PerformanceEntry) => (entry as PerformanceEntry & { detail: { kind: number } }).detail.kind
  const per1000 = (count: number) => count * 1000 / calls
  return {
    name,
    cpuMicrosPerCall: (cpu.user + cpu.system) / calls,
    gcMillisPer1000: per1000(collections.reduce((sum, entry) => sum + entry.duration, 0)),
    minorGcsPer1000: per1000(collections.filter((entry) => kind(entry) === constants.NODE_PERFORMANCE_GC_MINOR).length),
    majorGcsPer1000: per1000(collections.filter((entry) => kind(entry) === constants.NODE_PERFORMANCE_GC_MAJOR).length)
  }
}

const [calls, rounds] = process.argv.slice(2).map(Number) as [number, number]
const business = await fromDist<typeof BusinessModule>('plugins/business/index.js')
const schemas = await fromDist<typeof ValidationSchemas>('plugins/shared/token-validation.js')
const bare = await bareFastifyCall(business, schemas)
const service = await serviceCalls(business)
const kinds: Array<[string, Call]> = [
  ['node:http ServerResponse on a null socket', serverResponseCall()],
  ['light-my-request, a dispatch that answers at once', lightMyRequestCall()],
  ['Fastify inject, a bare app, validateToken\'s schemas', bare.call],
  ['this service: validateThroughInject → /auth/validateToken', service.call],
  ['the same, through the router with no streams (a measuring stick)', service.withoutStreams]
]
const byKind: InjectKindResult[][] = kinds.map(() => [])
for (const [, call] of kinds) await measure('warm-up', call, Math.max(CONCURRENCY, Math.round(calls / 4)))
for (let round = 0; round < rounds; round++) {
  for (const [index, [name, call]] of kinds.entries()) byKind[index]!.push(await measure(name, call, calls))
}
observer.disconnect()
await Promise.all([bare.app.close(), service.app.close()])
const report: InjectReport = { calls, rounds, kinds: byKind.map((results) => medianBy(results, (result) => result.cpuMicrosPerCall)) }
process.stdout.write(JSON.stringify(report) + '\n')
