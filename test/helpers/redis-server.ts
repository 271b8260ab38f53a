import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { requireBinary } from './system-binaries.js'

/** A redis-server (the one on PATH) on `port` of the loopback, without persistence; `args` adds settings (a cluster node's). */
export class RedisServer {
  readonly port: number
  readonly #args: string[]
  #process: ChildProcess | undefined

  constructor (port: number, args: string[] = []) {
    this.port = port
    this.#args = args
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start (): Promise<void> {
    this.#process = spawn(requireBinary('redis-server'), [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.#args
    ], { stdio: 'ignore' })
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    probe.on('error', () => {})
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await probe.connect()
          if (await probe.ping() === 'PONG') return
        } catch {
          await sleep(50)
        }
      }
      throw new Error(`redis-server did not start on port ${this.port}`)
    } finally {
      probe.disconnect()
    }
  }

  /** SIGSTOP: the server hangs, its connections stay open, and nothing answers (a hung Redis). */
  freeze (): void {
    this.#running().kill('SIGSTOP')
  }

  /** SIGCONT: the frozen server runs again and answers what it was sent meanwhile. */
  thaw (): void {
    this.#running().kill('SIGCONT')
  }

  get running (): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null
  }

  #running (): ChildProcess {
    if (!this.running) throw new Error(`redis-server on port ${this.port} is not running`)
    return this.#process!
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Stops it at once, for the moment the process exits, when nothing can be awaited. */
  stopNow (): void {
    this.#process?.kill('SIGKILL')
  }
}

/**
 * A redis-server of the test's own, stopped when the test ends, that the test can stop
 * and start again, or freeze and thaw, to see how the service lives through an outage.
 */
export class OwnRedisServer extends RedisServer {
  constructor (port: number) {
    super(port)
    onTestFinished(() => this.stop())
  }
}
