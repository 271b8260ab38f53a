import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { listeningUrl, PROJECT_ROOT, spawnServer } from '../helpers/server-process.js'

const COLLECTION = join(PROJECT_ROOT, 'postman/token-auth-service.postman_collection.json')
const ENVIRONMENT = join(PROJECT_ROOT, 'postman/token-auth-service.postman_environment.json')
const NEWMAN = join(PROJECT_ROOT, 'node_modules/newman/bin/newman.js')

interface PostmanItem {
  name: string
  item?: PostmanItem[]
  event?: Array<{ listen: string, script: { exec: string[] } }>
  request?: unknown
}

interface NewmanReport {
  run: {
    stats: Record<'requests' | 'assertions' | 'testScripts' | 'prerequestScripts', { total: number, failed: number }>
    failures: Array<{ error: { message: string }, source?: { name?: string } }>
    executions: Array<{ item: { name: string }, response?: { code: number } }>
  }
}

function requests (items: PostmanItem[]): PostmanItem[] {
  return items.flatMap((item) => item.item === undefined ? [item] : requests(item.item))
}

const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: PostmanItem[] }

/** Runs the collection with Newman's command line, as a person would, and returns its JSON report. */
async function runNewman (baseUrl: string, extraArguments: string[] = []) {
  const reportDir = mkdtempSync(join(tmpdir(), 'newman-'))
  onTestFinished(() => rmSync(reportDir, { recursive: true, force: true }))
  const report = join(reportDir, 'report.json')
  const outcome = await new Promise<{ code: number, output: string }>((resolve) => {
    execFile(process.execPath, [
      NEWMAN, 'run', COLLECTION,
      '--environment', ENVIRONMENT,
      '--env-var', `baseUrl=${baseUrl}`,
      '--reporters', 'cli,json',
      '--reporter-json-export', report,
      '--color', 'off',
      '--disable-unicode',
      ...extraArguments
    ], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), output: stdout + stderr })
    })
  })
  return { ...outcome, report: JSON.parse(readFileSync(report, 'utf8')) as NewmanReport }
}

describe('the Postman collection', () => {
  it('has Postman tests on status and body in every request', () => {
    const all = requests(collection.item)
    expect(all.length).toBeGreaterThanOrEqual(10)
    for (const request of all) {
      const tests = request.event?.find((event) => event.listen === 'test')?.script.exec.join('\n') ?? ''
      expect(tests, request.name).toMatch(/pm\.test\(/)
      expect(tests, request.name).toMatch(/pm\.response\.to\.have\.status\(\d{3}\)/)
      expect(tests, request.name).toMatch(/pm\.response\.(json|text)\(\)/)
    }
  })

  it('passes every Postman test under Newman, against a server with a 2 s idle lifetime', { timeout: 60_000 }, async () => {
    const server = spawnServer({ PORT: '0', TOKEN_TTL_SECONDS: '2' })
    const baseUrl = await listeningUrl(server)

    const { code, output, report } = await runNewman(baseUrl)

    const failures = report.run.failures.map((failure) => `${failure.source?.name ?? '?'}: ${failure.error.message}`)
    expect(failures, output).toEqual([])
    expect(code, output).toBe(0)
    expect(report.run.stats.requests).toEqual({ total: requests(collection.item).length, pending: 0, failed: 0 })
    expect(report.run.stats.assertions.total).toBeGreaterThan(requests(collection.item).length * 2)
    // The token left unused past its idle lifetime was refused.
    const expired = report.run.executions.find((execution) => execution.item.name === 'Data after the idle lifetime')
    expect(expired?.response?.code).toBe(401)
    // Logout-all ends the user's other session too; the original clients' POST /login logs in.
    const statusOf = (name: string) => report.run.executions.find((execution) => execution.item.name === name)?.response?.code
    expect(statusOf('Login on the original path (POST /login)')).toBe(200)
    expect(statusOf('Logout all')).toBe(204)
    expect(statusOf('Data with the second session after logout-all')).toBe(401)
    // One session ended by its id, the other device's: its token was refused, and the id then unknown.
    expect(statusOf('End the other device\'s session')).toBe(204)
    expect(statusOf('Data with the ended session\'s token')).toBe(401)
    expect(statusOf('End the same session again')).toBe(404)
  })

  it('fails the run when a Postman test fails', { timeout: 60_000 }, async () => {
    const server = spawnServer({ PORT: '0' })
    const baseUrl = await listeningUrl(server)

    const { code, report } = await runNewman(baseUrl, ['--env-var', 'password=not-the-password', '--folder', '1. Happy path'])

    expect(code).not.toBe(0)
    expect(report.run.stats.assertions.failed).toBeGreaterThan(0)
    expect(report.run.failures.map((failure) => failure.source?.name)).toContain('Login')
  })
})
