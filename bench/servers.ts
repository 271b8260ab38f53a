import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { freePort } from './free-port.js'

export const PROJECT_ROOT = resolve(import.meta.dirname, '..')
/** Server logs and results of the last run (git-ignored). */
export const OUTPUT_DIR = join(PROJECT_ROOT, '.bench')
export const TSX_LOADER = pathToFileURL(join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href

export const DEMO_CREDENTIALS = JSON.stringify({ username: 'jsf.fusco@gmail.com', password: 'postman' })

/**
 * Login throttling out of the way of a load that logs in thousands of times from one
 * address (as thousands of clients would): the login scenarios measure hashing, not 429s.
 */
export const UNTHROTTLED_LOGIN = {
  LOGIN_MAX_PER_IP: '1000000000',
  LOGIN_MAX_PER_USERNAME: '1000000000'
}

/** Clock ticks per second of /proc/<pid>/stat's times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** A module of the compiled dist/ (`path` under it), the code `npm start` runs rather than the sources. */
export async function fromDist<Module> (path: string): Promise<Module> {
  return await import(pathToFileURL(join(PROJECT_ROOT, 'dist', path)).href) as Module
}

/** Compiles src/ and plugins/ into dist/ when needed, exactly as `npm start` does first. */
export function buildIfNeeded (): void {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/build-if-needed.mjs')], { cwd: PROJECT_ROOT, stdio: 'inherit' })
}

/**
 * What each kind of server runs. `real`: node dist/src/server.js, as npm start runs it.
 * `http-boundary`: the loopback-HTTP peer (bench/fixtures). `bare-fastify` and
 * `fastify-session`: the peers of bench/peers, which exist to be beaten.
 */
const ENTRIES = {
  real: [join(PROJECT_ROOT, 'dist/src/server.js')],
  'http-boundary': ['--import', TSX_LOADER, join(PROJECT_ROOT, 'bench/fixtures/http-boundary-server.ts')],
  'bare-fastify': ['--import', TSX_LOADER, join(PROJECT_ROOT, 'bench/peers/bare-fastify.ts')],
  'fastify-session': ['--import', TSX_LOADER, join(PROJECT_ROOT, 'bench/peers/fastify-session.ts')]
} as const

export type ServerKind = keyof typeof ENTRIES

export interface ServerSpec {
  /** Names the log file (.bench/<name>.log) and the profile. */
  name: string
  kind: ServerKind
  /** Settings beyond the defaults; the server gets no other environment than PATH, PORT and LOG_LEVEL=info. */
  env?: Record<string, string>
  /** A directory for --cpu-prof, or none. */
  profileDir?: string | undefined
}

export class BenchServer {
  readonly name: string
  readonly kind: ServerKind
  readonly url: string
  readonly logFile: string
  readonly #child: ChildProcess
  readonly #exited: Promise<number | null>

  private constructor (name: string, kind: ServerKind, url: string, logFile: string, child: ChildProcess, workDir: string) {
    this.name = name
    this.kind = kind
    this.url = url
    this.logFile = logFile
    this.#child = child
    this.#exited = new Promise((resolve) => child.once('exit', (code) => {
      rmSync(workDir, { recursive: true, force: true })
      resolve(code)
    }))
  }

  /** Starts a server and waits until it answers HTTP (every kind listens once it is ready). */
  static async start ({ name, kind, env = {}, profileDir }: ServerSpec): Promise<BenchServer> {
    mkdirSync(OUTPUT_DIR, { recursive: true })
    const port = await freePort()
    const logFile = join(OUTPUT_DIR, `${name}.log`)
    const log = openSync(logFile, 'w')
    // A directory per server: Node names each thread's profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
    const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(resolve(profileDir), name)]
    // An empty working directory: no developer's .env reaches the server.
    const workDir = mkdtempSync(join(tmpdir(), 'token-auth-bench-'))
    const child = spawn(process.execPath, [...profile, ...ENTRIES[kind]], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', log, log]
    })
    closeSync(log)
    const server = new BenchServer(name, kind, `http://127.0.0.1:${port}`, logFile, child, workDir)
    await server.#waitUntilServing()
    return server
  }

  get pid (): number {
    return this.#child.pid!
  }

  /** CPU time the server process has used so far (user + system, all its threads), in microseconds. */
  cpuMicros (): number {
    // Fields after the command name, which is in parentheses and may hold spaces: state is [0], utime [11], stime [12].
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 1e6 / CLOCK_TICKS
  }

  /** Logs the demo user in and returns the token. */
  async login (): Promise<string> {
    const response = await this.#postCredentials('/auth/login')
    return ((await response.json()) as { token: string }).token
  }

  /** Logs the demo user in to the @fastify/session peer and returns its session cookie (name=value). */
  async sessionCookie (): Promise<string> {
    const response = await this.#postCredentials('/login')
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0]
    if (cookie === undefined) throw new Error(`${this.name}: login set no session cookie`)
    await response.arrayBuffer()
    return cookie
  }

  async #postCredentials (path: string): Promise<Response> {
    const response = await fetch(this.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: DEMO_CREDENTIALS })
    if (response.status !== 200) throw new Error(`${this.name}: login answered ${response.status} ${await response.text()}`)
    return response
  }

  /** Asks the server to close (as a platform would, SIGTERM) and waits for it to exit; it writes its profile then. */
  async stop (): Promise<void> {
    if (this.#child.exitCode !== null) return
    this.#child.kill('SIGTERM')
    const timeout = sleep(15_000, undefined, { ref: false }).then(() => 'timeout' as const)
    if (await Promise.race([this.#exited, timeout]) === 'timeout') this.#child.kill('SIGKILL')
  }

  async #waitUntilServing (): Promise<void> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) throw new Error(`${this.name} exited at start: ${readFileSync(this.logFile, 'utf8').slice(-2000)}`)
      try {
        await (await fetch(`${this.url}/health`)).arrayBuffer()
        return
      } catch {
        // not listening yet
      }
      await sleep(100)
    }
    this.#child.kill('SIGKILL')
    throw new Error(`${this.name} did not answer HTTP within 30 s (log: ${this.logFile})`)
  }
}
