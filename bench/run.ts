/**
 * `npm run bench [-- options]`: the benchmark suite (see BENCHMARKS.md and `--help`).
 *
 * Builds like `npm start`, starts the real server (node dist/src/server.js, default
 * settings, LOG_LEVEL=info, its output to .bench/<name>.log) in child processes, drives
 * them with autocannon, and prints one table per scenario, then the targets. Exits 1 when
 * a scenario failed or met errors; a missed target is reported, never an exit code.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseOptions, USAGE, type BenchOptions, type ScenarioName } from './options.js'
import { mainThreadProfile, summarizeProfile } from './profile-summary.js'
import { checkTargets, formatReport, type BenchResults } from './report.js'
import * as scenarios from './scenarios.js'
import { BenchServer, buildIfNeeded, OUTPUT_DIR, UNTHROTTLED_LOGIN } from './servers.js'

type Results = Omit<BenchResults, 'targets'>

const loadErrors = (...loads: Array<{ errors: number, non2xx: number }>) => loads.reduce((sum, load) => sum + load.errors + load.non2xx, 0)

async function main (options: BenchOptions): Promise<BenchResults> {
  const cpuList = cpus()
  const results: Results = {
    date: new Date().toISOString(),
    quick: options.quick,
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverage: loadavg()[0]!
    },
    settings: {
      connections: options.connections,
      requests: options.requests,
      rounds: options.rounds,
      loginSeconds: options.loginSeconds,
      floodSeconds: options.floodSeconds,
      memoryTokens: options.memoryTokens
    },
    scenarios: []
  }
  const wants = (name: ScenarioName) => options.only.has(name)
  const profileDir = options.profile === undefined ? undefined : resolve(options.profile)

  let started = performance.now()
  buildIfNeeded()
  process.stderr.write(`bench: build checked in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)

  const servers: BenchServer[] = []
  const start = async (spec: Parameters<typeof BenchServer.start>[0]) => {
    const server = await BenchServer.start({ ...spec, profileDir })
    servers.push(server)
    return server
  }
  started = performance.now()
  try {
    const [real, httpBoundary, bareFastify, fastifySession, loginServer] = await Promise.all([
      wants('throughput') ? start({ name: 'server', kind: 'real' }) : undefined,
      wants('throughput') ? start({ name: 'server-http-boundary', kind: 'http-boundary' }) : undefined,
      wants('throughput') ? start({ name: 'peer-bare-fastify', kind: 'bare-fastify' }) : undefined,
      wants('throughput') ? start({ name: 'peer-fastify-session', kind: 'fastify-session' }) : undefined,
      wants('login') || wants('flood') ? start({ name: 'server-login', kind: 'real', env: UNTHROTTLED_LOGIN }) : undefined
    ])
    process.stderr.write(`bench: servers started in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)

    const attempt = async (name: ScenarioName, body: () => Promise<number>) => {
      if (!wants(name)) return
      process.stderr.write(`bench: ${name}...\n`)
      const started = performance.now()
      try {
        const errors = await body()
        results.scenarios.push({ name, completed: true, errors })
        process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
      } catch (err) {
        process.stderr.write(`bench: ${name} failed: ${(err as Error).stack ?? String(err)}\n`)
        results.scenarios.push({ name, completed: false, errors: 0, skipped: `failed: ${(err as Error).message}` })
      }
    }

    await attempt('throughput', async () => {
      results.throughput = await scenarios.throughput({ real: real!, httpBoundary: httpBoundary!, bareFastify: bareFastify!, fastifySession: fastifySession! }, options)
      return loadErrors(...results.throughput.rounds.flat())
    })
    await attempt('inject', async () => {
      results.inject = await scenarios.inject(options)
      return 0
    })
    await attempt('login', async () => {
      results.login = await scenarios.login(loginServer!, options)
      return loadErrors(results.login.login)
    })
    await attempt('flood', async () => {
      results.flood = await scenarios.flood(loginServer!, options)
      return loadErrors(results.flood.alone, results.flood.underFlood, results.flood.flood)
    })
    await attempt('memory', async () => {
      results.memory = await scenarios.memory(options)
      const { samples, cleanup } = results.memory
      return cleanup.removed === cleanup.tokens && samples.length === options.memoryTokens.length ? 0 : 1
    })
    if (wants('redis')) {
      const redis = await scenarios.benchRedis()
      if (redis === undefined) {
        results.scenarios.push({ name: 'redis', completed: true, errors: 0, skipped: 'skipped: no REDIS_URL answered, and no redis-server to start' })
      } else {
        try {
          await attempt('redis', async () => {
            const result = await scenarios.redis(redis, options, profileDir)
            const memoryData = results.throughput?.data
            results.redis = {
              ...result,
              cpuRatio: memoryData?.cpuMicrosPerRequest == null || result.data.cpuMicrosPerRequest === null ? null : result.data.cpuMicrosPerRequest / memoryData.cpuMicrosPerRequest,
              requestsPerSecondRatio: memoryData === undefined ? Number.NaN : result.data.requestsPerSecond / memoryData.requestsPerSecond
            }
            return loadErrors(result.data)
          })
        } finally {
          await redis.stop()
        }
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
  return { ...results, targets: checkTargets(results) }
}

let options: BenchOptions | 'help'
try {
  options = parseOptions(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}
if (options === 'help') {
  process.stdout.write(USAGE)
  process.exit(0)
}

const results = await main(options)
process.stdout.write(formatReport(results) + '\n')
if (options.profile !== undefined) {
  process.stdout.write(`\n## CPU profiles (${resolve(options.profile)})\n`)
  for (const name of ['server', 'server-http-boundary', 'peer-bare-fastify', 'peer-fastify-session', 'server-login', 'server-redis']) {
    const file = mainThreadProfile(join(resolve(options.profile), name))
    const summary = file === undefined ? undefined : summarizeProfile(file)
    if (summary !== undefined) process.stdout.write(`\n### ${name} (${file})\n\n${summary}\n`)
  }
}
const jsonFile = options.json ?? join(OUTPUT_DIR, 'last-run.json')
mkdirSync(dirname(resolve(jsonFile)), { recursive: true })
writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n')
const failed = results.scenarios.filter((scenario) => !scenario.completed || scenario.errors > 0)
if (failed.length > 0) {
  process.stderr.write(`bench: ${failed.map((scenario) => scenario.name).join(', ')} did not complete without errors\n`)
  process.exit(1)
}
