import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'

/**
 * A redis-server of the test's own on `port`, without persistence, that the test can
 * stop and start again, or freeze and thaw, to see how the service lives through an outage.
 */
export class OwnRedisServer {
  readonly port: number
  #process: ChildProcess | undefined

  constructor (port: number) {
    this.port = port
    onTestFinished(() => this.stop())
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start (): Promise<void> {
    this.#process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
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

  #running (): ChildProcess {
    if (this.#process === undefined || this.#process.exitCode !== null || this.#process.signalCode !== null) {
      throw new Error(`redis-server on port ${this.port} is not running`)
    }
    return this.#process
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
}
