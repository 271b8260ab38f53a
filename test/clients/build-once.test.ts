import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freshCopy } from '../helpers/fresh-copy.js'
import { PATH_WITH_THIS_NODE, spawnProcessGroup } from '../helpers/server-process.js'

const BUILD_STAMP = 'dist/.tsbuildinfo'

/** The environment of a person's shell in the copy: no database settings, no .env. */
function shellEnv (): Record<string, string> {
  return { PATH: PATH_WITH_THIS_NODE, HOME: mkdtempSync(join(tmpdir(), 'home-')), npm_config_update_notifier: 'false' }
}

function npm (copy: string, args: string[], input = '') {
  const started = Date.now()
  const run = spawnSync('npm', args, { cwd: copy, env: shellEnv(), input, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - started }
}

const COMPILING = /compiling/i

/** Runs `npm start` in the copy on a free port; resolves with its URL and everything it printed so far. */
async function npmStart (copy: string): Promise<{ url: string | undefined, output: () => string }> {
  const { child: server, output } = spawnProcessGroup('npm', ['start'], { cwd: copy, env: { ...shellEnv(), PORT: '0' } })
  const deadline = Date.now() + 30_000
  let url: string | undefined
  while (url === undefined && Date.now() < deadline && server.exitCode === null) {
    url = /Server listening at (http:\/\/[^"]+)/.exec(output())?.[1]
    if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url, output }
}

/**
 * dist/ is built once, when `npm ci` runs the `prepare` script; after that `npm start` and
 * the command-line scripts run it without calling the compiler, unless a source changed.
 * One fresh copy for every step: a build from nothing is the slow part.
 */
describe('the build', () => {
  it('is made by npm ci\'s prepare step; then start and the scripts run without compiling (each script within 2 s), until src/ changes', { timeout: 90_000 }, async () => {
    const copy = freshCopy()
    expect(existsSync(join(copy, 'dist'))).toBe(false)

    // What npm ci runs once the dependencies are in place.
    const prepare = npm(copy, ['run', 'prepare'])
    expect(prepare.status, prepare.stderr).toBe(0)
    expect(existsSync(join(copy, 'dist/src/server.js'))).toBe(true)
    const built = statSync(join(copy, BUILD_STAMP)).mtimeMs

    const calls = [
      { args: ['run', '--silent', 'users', '--', 'help'], status: 0, output: /^Usage: npm run users/ },
      { args: ['run', '--silent', 'migrate'], status: 2, output: /DATABASE_URL is not set/ },
      { args: ['run', '--silent', 'hash-password'], input: 'correct horse battery staple', status: 0, output: /^\$argon2id\$/ }
    ]
    for (const { args, input, status, output } of calls) {
      const run = npm(copy, args, input)
      expect(run.status, run.stderr).toBe(status)
      expect(run.stdout + run.stderr).toMatch(output)
      expect(run.stderr).not.toMatch(COMPILING)
      expect(run.ms, args.join(' ')).toBeLessThan(2000)
    }

    const server = await npmStart(copy)
    expect(server.url, server.output()).toBeDefined()
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' })
    expect(server.output()).not.toMatch(COMPILING)
    expect(statSync(join(copy, BUILD_STAMP)).mtimeMs).toBe(built)

    // A developer edits src/: the next call runs the edit, compiled once.
    const usersCli = join(copy, 'src/cli/users.ts')
    writeFileSync(usersCli, readFileSync(usersCli, 'utf8').replace('Usage: npm run users', 'Usage (edited): npm run users'))
    const edited = npm(copy, ['run', '--silent', 'users', '--', 'help'])
    expect(edited.status, edited.stderr).toBe(0)
    expect(edited.stderr).toMatch(COMPILING)
    expect(edited.stdout).toMatch(/^Usage \(edited\): npm run users/)
    const again = npm(copy, ['run', '--silent', 'users', '--', 'help'])
    expect(again.stderr).not.toMatch(COMPILING)
    expect(again.stdout).toMatch(/^Usage \(edited\)/)
  })
})
