import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { policyFromSeconds } from '../../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../../src/tokens/memory-token-store.js'
import { digestToken, generateToken } from '../../src/tokens/token.js'
import { buildTestApp, getData, loginToken } from '../helpers/build-app.js'
import { LAPTOP } from '../helpers/devices.js'
import { PROJECT_ROOT } from '../helpers/server-process.js'
import { waitFor } from '../helpers/wait-for.js'
import type { ChurnReport } from './fixtures/memory-churn.js'

const TSX_LOADER = pathToFileURL(join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const CHURN_SCRIPT = join(import.meta.dirname, 'fixtures/memory-churn.ts')

const MiB = 1024 * 1024

/** Runs the churn script in a process of its own with `--expose-gc`, and returns its report. */
async function runChurn (tokens: number, rounds: number): Promise<ChurnReport> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', TSX_LOADER, CHURN_SCRIPT, String(tokens), String(rounds)], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => { stdout += chunk })
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  expect(code, stderr).toBe(0)
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChurnReport
}

describe('memory use of the token store', () => {
  it('holds tens of thousands of tokens, and gives the memory back once cleanup removed them', async () => {
    const report = await runChurn(50_000, 3)
    expect(report.gcExposed).toBe(true)

    for (const round of report.rounds) {
      expect(round).toMatchObject({ issued: 50_000, validated: 10_000, sizeBeforeCleanup: 50_000, removed: 50_000, sizeAfterCleanup: 0 })
    }
    // The measurement sees the tokens (so it would see them leak)...
    for (const round of report.rounds) expect(round.heapFull - report.heapBaseline).toBeGreaterThan(4 * MiB)
    // ...and after three rounds of filling and emptying, the heap is back where it started.
    const tolerance = Math.max(0.1 * report.heapBaseline, 2 * MiB)
    const last = report.rounds.at(-1)!
    expect(last.heapAfter - report.heapBaseline, JSON.stringify(report)).toBeLessThan(tolerance)
  }, 60_000)

  it('the app\'s cleanup job empties its store of expired tokens, logins and volume alike', async () => {
    // Before the app: the job arms its interval at start, and runs only when the test ticks it.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    onTestFinished(() => { vi.useRealTimers() })
    const store = new MemoryTokenStore(policyFromSeconds(1, 86_400))
    // `logs` is a getter that parses the lines written so far: read it from testApp each time, never destructured.
    const testApp = await buildTestApp({ tokenStore: store, config: { TOKEN_TTL_SECONDS: 1, CLEANUP_INTERVAL_SECONDS: 1 } })
    const { app, clock } = testApp

    // A few real logins (argon2 is slow), then volume straight into the same store.
    const tokens = [await loginToken(app), await loginToken(app), await loginToken(app)]
    expect((await getData(app, tokens[0]!)).statusCode).toBe(200)
    for (let i = 0; i < 20_000; i++) await store.issue(digestToken(generateToken(`user${i % 100}@example.com`)), `user${i % 100}@example.com`, LAPTOP, clock.now())
    expect(await store.size()).toBe(20_003)

    clock.advanceSeconds(2)
    // An expired token fails at once, before any cleanup, and is dropped as it is met.
    expect((await getData(app, tokens[0]!)).statusCode).toBe(401)
    expect(await store.size()).toBe(20_002)

    // The scheduled job (its interval ticked, reading the fake clock) removes the rest, and says so.
    await vi.advanceTimersByTimeAsync(1000)
    const removals = () => testApp.logs.filter((line) => line.msg === 'expired tokens removed')
    // Its run yields to the event loop between slices: it ends on its own time.
    await waitFor(() => removals().at(-1)?.remaining === 0, { what: 'the cleanup job to empty the store' })
    expect(await store.size()).toBe(0)
    expect(removals().reduce((sum, line) => sum + (line.removed as number), 0)).toBe(20_002)
    for (const token of tokens) expect((await getData(app, token)).statusCode).toBe(401)
  }, 30_000)
})
