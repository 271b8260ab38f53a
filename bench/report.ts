import type { LoadResult } from './load.js'
import type { InjectReport } from './inject-child.js'
import type { MemoryReport } from './memory-child.js'
import type { FloodResult, LoginResult, NamedLoad, RedisResult, ScenarioStatus, ThroughputResult } from './scenarios.js'

export interface Machine {
  cpus: number
  cpuModel: string
  node: string
  platform: string
  /** 1-minute load average when the run started: how busy the machine was besides the benchmark. */
  loadAverage: number
}

export interface TargetCheck {
  name: string
  measured: number | null
  /** e.g. ">= 0.40" */
  target: string
  met: boolean | null
}

export interface BenchResults {
  date: string
  quick: boolean
  machine: Machine
  settings: { connections: number, requests: number, rounds: number, loginSeconds: number, floodSeconds: number, memoryTokens: number[] }
  scenarios: ScenarioStatus[]
  throughput?: ThroughputResult
  inject?: InjectReport
  login?: LoginResult
  flood?: FloodResult
  memory?: MemoryReport
  redis?: RedisResult & { cpuRatio: number | null, requestsPerSecondRatio: number }
  targets: TargetCheck[]
}

const fixed = (value: number | null | undefined, digits = 1) => value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits)

/** A Markdown table, padded so that it also reads as plain text. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, column) => column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join(' | ')} |`
  const rule = `|${widths.map((width, column) => column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

const LOAD_HEADER = ['scenario', 'server CPU µs/req', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx']

function loadRow (load: NamedLoad): string[] {
  return [load.name, fixed(load.cpuMicrosPerRequest), fixed(load.requestsPerSecond, 0), fixed(load.p50Ms, 2), fixed(load.p99Ms, 2), String(load.errors), String(load.non2xx)]
}

const cpu = (load: LoadResult | undefined) => load?.cpuMicrosPerRequest ?? null

/** Commands per operation, e.g. "evalsha 1, get 1, set 1". */
function formatCommands (commands: Record<string, number>): string {
  return Object.entries(commands).sort(([, a], [, b]) => b - a).map(([name, calls]) => `${name} ${fixed(calls, calls < 10 ? 2 : 0).replace(/\.00$/, '')}`).join(', ')
}
const ratio = (a: number | null | undefined, b: number | null | undefined) => a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b

/** Every target of the issue, with what this run measured. */
export function checkTargets (results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const check = (name: string, measured: number | null, target: string, ok: (value: number) => boolean): TargetCheck =>
    ({ name, measured, target, met: measured === null ? null : ok(measured) })
  const { throughput, login, flood, memory, redis } = results
  const largest = memory?.samples.at(-1)
  return [
    check('bare/data: CPU of /health ÷ CPU of /business/data', ratio(cpu(throughput?.health), cpu(throughput?.data)), '>= 0.40', (v) => v >= 0.40),
    check('CPU of /health ÷ CPU of the bare Fastify route', ratio(cpu(throughput?.health), cpu(throughput?.bareFastify)), '<= 1.30', (v) => v <= 1.30),
    check('CPU of /business/data ÷ CPU of the @fastify/session route', ratio(cpu(throughput?.data), cpu(throughput?.fastifySession)), '<= 1.25', (v) => v <= 1.25),
    check('loopback HTTP ÷ inject: CPU of /business/data', ratio(cpu(throughput?.dataOverHttp), cpu(throughput?.data)), '>= 1.15', (v) => v >= 1.15),
    check('login rate ÷ raw argon2 verification rate', ratio(login?.login.requestsPerSecond, login?.argon2.perSecond), '>= 0.90', (v) => v >= 0.90),
    check(`bytes per live token, device included, at ${largest?.tokens ?? 'n/a'} tokens (${largest?.userAgents ?? 'n/a'} user agents, ${largest?.addresses ?? 'n/a'} addresses)`,
      largest?.bytesPerToken ?? null, '<= 200', (v) => v <= 200),
    check(`cleanup of ${memory?.cleanup.tokens ?? 'n/a'} expired tokens, total ms`, memory?.cleanup.totalMs ?? null, '<= 400', (v) => v <= 400),
    check('longest event-loop stall during that cleanup, ms', memory?.cleanup.maxStallMs ?? null, '<= 20', (v) => v <= 20),
    check('/business/data p99 under the login flood ÷ p99 alone', ratio(flood?.underFlood.p99Ms, flood?.alone.p99Ms), '<= 5', (v) => v <= 5),
    check('Redis CPU per validation ÷ GET + PEXPIRE', ratio(redis?.validation.cpuMicrosPerOperation, redis?.floor.cpuMicrosPerOperation), '<= 1.5', (v) => v <= 1.5)
  ]
}

/** Each throughput load beside the two peers, as ratios of server CPU per request. */
function peersTable ({ health, data, dataOverHttp, bareFastify, fastifySession }: ThroughputResult): string {
  const rows = [bareFastify, health, fastifySession, data, dataOverHttp].map((load) => [
    load.name, fixed(load.cpuMicrosPerRequest), fixed(load.requestsPerSecond, 0), fixed(load.p99Ms, 2),
    fixed(ratio(cpu(load), cpu(bareFastify)), 2), fixed(ratio(cpu(load), cpu(fastifySession)), 2)
  ])
  return table(['server, route', 'server CPU µs/req', 'req/s', 'p99 ms', 'CPU ÷ bare Fastify', 'CPU ÷ @fastify/session'], rows)
}

/** The inject hop taken apart: each layer beside Node's own response, in one process. */
function injectSection ({ calls, kinds }: InjectReport): string {
  const floor = kinds[0]?.cpuMicrosPerCall ?? null
  const rows = kinds.map((kind, index) => [
    kind.name, fixed(kind.cpuMicrosPerCall), fixed(ratio(kind.cpuMicrosPerCall, floor), 1),
    index === 0 ? '' : fixed(kind.cpuMicrosPerCall - kinds[index - 1]!.cpuMicrosPerCall),
    fixed(kind.gcMillisPer1000, 2), fixed(kind.minorGcsPer1000, 2), fixed(kind.majorGcsPer1000, 2)
  ])
  return [
    `## The inject hop taken apart (bench/inject-child.ts: ${calls} calls a round, 10 at a time; medians by CPU)`, '',
    table(['call', 'CPU µs/call', '÷ ServerResponse', 'µs over the row above', 'GC ms per 1000', 'minor GCs per 1000', 'major GCs per 1000'], rows)
  ].join('\n')
}

/** The whole report, as Markdown that also reads as plain text. */
export function formatReport (results: BenchResults): string {
  const { machine, settings } = results
  const out: string[] = []
  out.push(`# Benchmark, ${results.date}${results.quick ? ' (quick mode: the numbers mean nothing)' : ''}`)
  out.push('')
  out.push(`Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.platform}, Node ${machine.node}, load average ${machine.loadAverage.toFixed(2)} at the start.`)
  out.push(`Settings: ${settings.connections} connections; ${settings.requests} requests per measured run (after a warm-up), ${settings.rounds} round(s), medians by CPU; ` +
    `login ${settings.loginSeconds} s; flood ${settings.floodSeconds} s; memory at ${settings.memoryTokens.join(' and ')} tokens.`)

  if (results.throughput !== undefined) {
    const { health, data, dataOverHttp } = results.throughput
    out.push('', '## Throughput (server CPU read from /proc/<pid>/stat around each measured run)', '')
    out.push(table(LOAD_HEADER, [health, data, dataOverHttp].map(loadRow)))
    out.push('', '## The service against its peers (bench/peers; the same rounds, medians by CPU)', '')
    out.push(peersTable(results.throughput))
  }
  if (results.inject !== undefined) out.push('', injectSection(results.inject))
  if (results.login !== undefined) {
    const { login, argon2 } = results.login
    out.push('', `## Login against argon2 alone (same parameters, ${argon2.concurrency} at a time, thread pool of ${argon2.threadPool})`, '')
    out.push(table(LOAD_HEADER, [loadRow(login)]))
    out.push('', table(['raw argon2.verify', 'verifications', 'seconds', 'per second'], [
      ['in the benchmark process', String(argon2.verifications), fixed(argon2.seconds, 2), fixed(argon2.perSecond, 1)]
    ]))
  }
  if (results.flood !== undefined) {
    const { alone, underFlood, flood } = results.flood
    out.push('', '## /business/data under a login flood', '')
    out.push(table(LOAD_HEADER, [alone, underFlood, flood].map(loadRow)))
  }
  if (results.memory !== undefined) {
    const { samples, cleanup } = results.memory
    out.push('', '## Memory store', '')
    out.push(table(['live tokens', 'user agents', 'addresses', 'bytes/token (heap + ArrayBuffers)', 'of which JS heap', 'fill ms'], samples.map((sample) => [
      String(sample.tokens), String(sample.userAgents), String(sample.addresses),
      fixed(sample.bytesPerToken), fixed(sample.heapBytesPerToken), fixed(sample.fillMs, 0)
    ])))
    out.push('', table(['expired tokens', 'removed', 'cleanup ms', 'longest stall ms', 'p99 stall ms'], [[
      String(cleanup.tokens), String(cleanup.removed), fixed(cleanup.totalMs), fixed(cleanup.maxStallMs), fixed(cleanup.p99StallMs)
    ]]))
  }
  if (results.redis !== undefined) {
    const { data, redisCpuMicrosPerRequest, commandsPerRequest, cpuRatio, requestsPerSecondRatio, url, own, validation, floor } = results.redis
    out.push('', `## Redis store (${url}${own ? ', the benchmark\'s own redis-server' : ', shared: its counters include whatever else runs on it'})`, '')
    out.push(table(LOAD_HEADER, [loadRow(data)]))
    out.push('', table(['Redis store ÷ memory store', 'ratio'], [
      ['server CPU per request', fixed(cpuRatio, 2)],
      ['requests per second', fixed(requestsPerSecondRatio, 2)]
    ]))
    const perCore = (cost: number | null) => cost === null || cost === 0 ? 'n/a' : fixed(1e6 / cost, 0)
    out.push('', `Redis's side, per validation (${validation.operations} each, ${results.settings.connections} at a time, same Redis, rounds alternating; medians):`, '')
    out.push(table(['per validation', 'Redis CPU µs', 'validations/s per Redis core', 'Redis commands'], [
      ['RedisTokenStore.validate', fixed(validation.cpuMicrosPerOperation, 2), perCore(validation.cpuMicrosPerOperation), formatCommands(validation.commandsPerOperation)],
      ['floor: GET + PEXPIRE', fixed(floor.cpuMicrosPerOperation, 2), perCore(floor.cpuMicrosPerOperation), formatCommands(floor.commandsPerOperation)],
      ['GET /business/data, through the service', fixed(redisCpuMicrosPerRequest, 2), perCore(redisCpuMicrosPerRequest), formatCommands(commandsPerRequest)]
    ]))
    const ratioToFloor = ratio(validation.cpuMicrosPerOperation, floor.cpuMicrosPerOperation)
    out.push('', `Validation ÷ floor: ${fixed(ratioToFloor, 2)}. For 100 000 validations/s, with each master's core at most half busy: ` +
      `${validation.cpuMicrosPerOperation === null ? 'n/a' : Math.ceil(100_000 * validation.cpuMicrosPerOperation / 1e6 / 0.5)} master(s).`)
  }
  out.push('', '## Targets', '')
  out.push(table(['target', 'measured', 'wanted', 'met'], results.targets.map((target) => [
    target.name, fixed(target.measured, target.measured !== null && target.measured < 10 ? 2 : 1), target.target,
    target.met === null ? 'not run' : target.met ? 'yes' : 'NO'
  ])))
  out.push('', '## Scenarios', '')
  out.push(table(['scenario', 'completed', 'errors + non-2xx', 'note'], results.scenarios.map((scenario) => [
    scenario.name, scenario.completed ? 'yes' : 'NO', String(scenario.errors), scenario.skipped ?? ''
  ])))
  return out.join('\n')
}
