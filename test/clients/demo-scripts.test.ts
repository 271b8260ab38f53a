import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listeningUrl, PROJECT_ROOT, spawnServer } from '../helpers/server-process.js'
import { skipWithout } from '../helpers/system-binaries.js'
import { selfSignedCertificate } from '../helpers/tls.js'

/** HTTPie's settings for the test: no background check for a newer version (no network here). */
function httpieConfigDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'httpie-'))
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ disable_update_warnings: true }))
  return dir
}

/** Runs a demo script as a person would, with only the given environment. */
function runScript (script: string, env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(PROJECT_ROOT, 'scripts', script)], {
      cwd: mkdtempSync(join(tmpdir(), 'demo-')),
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'home-')), HTTPIE_CONFIG_DIR: httpieConfigDir(), ...env },
      timeout: 50_000
    }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr })
    })
  })
}

/**
 * A server whose tokens die after 3 s unused, so the expiry step waits 4 s: short, yet
 * longer than HTTPie takes to start between two steps on a busy machine.
 */
async function shortTtlServer (settings: Record<string, string> = {}): Promise<string> {
  return listeningUrl(spawnServer({ PORT: '0', TOKEN_TTL_SECONDS: '3', ...settings }))
}

// curl is always expected; HTTPie only where installed outside CI (.ci/run installs it).
const SCRIPTS = [
  { script: 'demo-curl.sh', command: 'curl', skip: false },
  { script: 'demo-httpie.sh', command: 'http', skip: skipWithout('http', 'the HTTPie demo test') }
]

// HTTPie starts a Python process for each step, which a busy machine makes slow.
describe.each(SCRIPTS)('scripts/$script', { timeout: 60_000 }, ({ script, command, skip }) => {
  it.skipIf(skip)('walks the story: login, data with each header, sessions on two devices and one ended, expiry, logout', async () => {
    const started = Date.now()
    const { code, stdout, stderr } = await runScript(script, { BASE_URL: await shortTtlServer() })

    expect(stderr, stdout).not.toMatch(/FAILED/)
    expect(code, stdout + stderr).toBe(0)
    expect(stdout).toContain('Read data with Authorization: Bearer')
    expect(stdout).toContain('Read data with the token header')
    expect(stdout).toContain('Log in on a second device')
    expect(stdout).toContain('List the sessions, told apart by device')
    expect(stdout).toContain('End the second device\'s session')
    expect(stdout).toContain('Read data with the ended session\'s token')
    expect(stdout).toContain('leaving the token unused for 4 s (its idle lifetime is 3 s)')
    expect(stdout).toContain('Read data with the expired token')
    expect(stdout).toContain('Log out')
    expect(stdout).toMatch(/All 12 steps answered as expected\.\n$/)
    // It waited out the idle lifetime: expiresIn + 1 seconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000)
  })

  it.skipIf(skip)('exits non-zero at the first step that does not answer as expected', async () => {
    const { code, stdout, stderr } = await runScript(script, { BASE_URL: await shortTtlServer(), DEMO_PASSWORD: 'not-the-password' })

    expect(code).toBe(1)
    expect(stderr).toContain('FAILED: step 1 (Log in) answered 401, expected 200')
    expect(stdout).not.toContain('== 2.')
    // The usual cause: a server whose users are not the demo user.
    expect(stderr).toContain('npm run users -- add-demo')
  })

  it.skipIf(skip)('reaches an HTTPS server with a self-signed certificate through CA_FILE, and says to set it otherwise', async () => {
    const { certFile, keyFile } = selfSignedCertificate()
    const baseUrl = await shortTtlServer({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })
    expect(baseUrl).toMatch(/^https:/)

    const untrusted = await runScript(script, { BASE_URL: baseUrl })
    expect(untrusted.code).toBe(1)
    expect(untrusted.stderr).toContain(`could not reach ${baseUrl} (a self-signed certificate? set CA_FILE to its PEM file)`)

    const trusted = await runScript(script, { BASE_URL: baseUrl, CA_FILE: certFile })
    expect(trusted.stderr, trusted.stdout).not.toMatch(/FAILED/)
    expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0)
    expect(trusted.stdout).toMatch(/All 12 steps answered as expected\.\n$/)
    // Each step shows the option, as a person would type it.
    expect(trusted.stdout).toContain(command === 'curl' ? `$ curl --cacert ${certFile} ` : `$ http --verify=${certFile} `)
  })

  it.skipIf(skip)('exits non-zero when the service cannot be reached', async () => {
    const { code, stderr } = await runScript(script, { BASE_URL: 'http://127.0.0.1:9' })

    expect(code).toBe(1)
    expect(stderr).toContain('could not reach http://127.0.0.1:9')
  })
})
