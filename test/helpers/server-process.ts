import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { onTestFinished } from 'vitest'
import { waitFor } from './wait-for.js'

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..')

/**
 * PATH with the directory of the Node that runs the tests first, so that a child's `npm`,
 * `npx` or `#!/usr/bin/env node` script runs on that Node too, whichever `node` the
 * machine's PATH would find (scripts/test-node-versions.sh runs the suite on several).
 */
export const PATH_WITH_THIS_NODE = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter)
const SERVER_ENTRY = join(PROJECT_ROOT, 'src/server.ts')
const TSX_LOADER = pathToFileURL(join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href

export interface ServerProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/**
 * Runs src/server.ts as `npm start` would (TypeScript through tsx, no build), in an
 * empty working directory so no developer's .env leaks in, with only `env` set.
 */
export function spawnServer (env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, SERVER_ENTRY], {
    cwd: mkdtempSync(join(tmpdir(), 'token-auth-')),
    env: { PATH: PATH_WITH_THIS_NODE, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => { stdout += chunk })
  child.stderr?.on('data', (chunk) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

export interface ProcessGroup {
  child: ChildProcess
  /** Everything it printed so far, standard output and error as they came. */
  output: () => string
}

/**
 * Runs a command the way a user or a platform does (`npm start`, a Procfile's web
 * command through `sh -c`) in a process group of its own, so that npm, sh and node stop
 * together when the test finishes: SIGTERM to the group, SIGKILL if it is still there
 * after 5 s.
 */
export function spawnProcessGroup (command: string, args: string[], options: { cwd: string, env: NodeJS.ProcessEnv }): ProcessGroup {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += chunk })
  child.stderr?.on('data', (chunk) => { output += chunk })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  onTestFinished(async () => {
    if (child.exitCode !== null || child.pid === undefined) return
    process.kill(-child.pid, 'SIGTERM')
    const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(resolve, 5000, false))])
    if (stopped === false) process.kill(-child.pid, 'SIGKILL')
  })
  return { child, output: () => output }
}

/** Waits for the "Server listening" log line and returns the URL it names. */
export async function listeningUrl (server: ServerProcess, timeoutMs = 15_000): Promise<string> {
  let url: string | undefined
  await waitFor(() => {
    url = /Server listening at (https?:\/\/[^"]+)/.exec(server.stdout())?.[1]
    if (url === undefined && server.child.exitCode !== null) throw new Error(`server exited: ${server.stderr()}`)
    return url !== undefined
  }, { timeoutMs, what: 'the server to listen' })
  return url as string
}
