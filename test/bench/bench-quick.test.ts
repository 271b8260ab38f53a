import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { BenchResults } from '../../bench/report.js'
import { SCENARIOS } from '../../bench/options.js'
import { TEST_REDIS_URL } from '../helpers/redis.js'
import { PATH_WITH_THIS_NODE, PROJECT_ROOT } from '../helpers/server-process.js'

/**
 * `npm run bench -- --quick`, as a developer would run it: every scenario must still run
 * to its end without an error or a non-2xx answer, so that the benchmark never rots.
 * Timings are never checked here: a quick run's numbers mean nothing.
 */
describe('npm run bench -- --quick', () => {
  it('runs every scenario to completion, without errors', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'bench-quick-'))
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
    const json = join(directory, 'results.json')
    const child = spawn('npm', ['run', 'bench', '--', '--quick', '--json', json], {
      cwd: PROJECT_ROOT,
      // The Redis scenario runs on the tests' Redis, where there is one.
      env: { ...process.env, PATH: PATH_WITH_THIS_NODE, NODE_OPTIONS: '', ...(TEST_REDIS_URL === '' ? {} : { REDIS_URL: TEST_REDIS_URL }) },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    child.stderr.on('data', (chunk) => { output += chunk })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code, output).toBe(0)

    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults
    expect(results.quick).toBe(true)
    expect(results.scenarios.map((scenario) => scenario.name)).toEqual([...SCENARIOS])
    for (const scenario of results.scenarios) {
      expect(scenario, output).toMatchObject({ completed: true, errors: 0 })
    }

    // Each load ran, and was answered.
    const { throughput, login, flood, memory } = results
    for (const load of [throughput!.health, throughput!.data, throughput!.dataOverHttp, throughput!.bareFastify, throughput!.fastifySession, login!.login, flood!.alone, flood!.underFlood, flood!.flood]) {
      expect(load.requests, load.name).toBeGreaterThan(0)
      expect(load).toMatchObject({ errors: 0, non2xx: 0 })
    }
    expect(throughput!.data.cpuMicrosPerRequest).not.toBeNull()
    expect(login!.argon2.verifications).toBeGreaterThan(0)
    // The inject hop, each of its four layers timed, and the stream-free measuring stick.
    expect(results.inject!.kinds).toHaveLength(5)
    for (const kind of results.inject!.kinds) expect(kind.cpuMicrosPerCall, kind.name).toBeGreaterThan(0)
    expect(memory!.samples.map((sample) => sample.tokens)).toEqual(results.settings.memoryTokens)
    expect(memory!.cleanup.removed).toBe(memory!.cleanup.tokens)
    // The Redis scenario either ran, or says why not (no Redis reachable).
    const redis = results.scenarios.find((scenario) => scenario.name === 'redis')!
    if (redis.skipped === undefined) {
      expect(results.redis!.data.requests).toBeGreaterThan(0)
      // Redis's side: the store's validation and the GET + PEXPIRE floor both ran, and were counted.
      expect(results.redis!.validation.commandsPerOperation).toMatchObject({ evalsha: expect.any(Number) })
      expect(results.redis!.floor.commandsPerOperation).toMatchObject({ get: expect.any(Number), pexpire: expect.any(Number) })
    }

    // Every target is reported (met or not, which a quick run cannot tell).
    expect(results.targets).toHaveLength(10)
    expect(output).toContain('## Targets')
  }, 120_000)
})
