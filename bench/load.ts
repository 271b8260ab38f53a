import autocannon, { type AutocannonResult } from 'autocannon'
import type { BenchServer } from './servers.js'

export interface Request {
  path: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
}

/** One measured load: what the table shows for a scenario. */
export interface LoadResult {
  requests: number
  seconds: number
  requestsPerSecond: number
  /** Server CPU time (user + system) per request, in microseconds; null when the server's CPU was not read. */
  cpuMicrosPerRequest: number | null
  p50Ms: number
  p99Ms: number
  /** Connection errors and timeouts. */
  errors: number
  non2xx: number
}

export interface LoadOptions {
  connections: number
  /** Requests in all (exclusive with seconds). */
  amount?: number
  seconds?: number
}

interface Run {
  result: AutocannonResult
  /** From the start to the last response. */
  seconds: number
  /** Every response's latency in ms (autocannon's own histogram keeps whole milliseconds). */
  latencies: number[]
}

/** One autocannon run, with the moment of its last response and every latency. */
function cannon (server: BenchServer, request: Request, { connections, amount, seconds }: LoadOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let lastResponse = started
    const latencies: number[] = []
    const instance = autocannon({
      url: server.url + request.path,
      method: request.method ?? 'GET',
      headers: request.body === undefined ? request.headers : { 'content-type': 'application/json', ...request.headers },
      body: request.body,
      connections,
      // autocannon notices the end of an `amount` run at its next sample: every 100 ms rather than every second.
      sampleInt: 100,
      ...(amount === undefined ? { duration: seconds ?? 10 } : { amount })
    }, (err, result) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve({ result, seconds: (lastResponse - started) / 1000, latencies })
    })
    instance.on('response', (_client, _statusCode, _bytes, responseTime) => {
      lastResponse = performance.now()
      latencies.push(responseTime)
    })
  })
}

function percentile (sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!
}

function summarize ({ result, seconds, latencies }: Run, cpuMicros: number | null): LoadResult {
  const requests = result['2xx'] + result.non2xx
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    cpuMicrosPerRequest: cpuMicros === null || requests === 0 ? null : cpuMicros / requests,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx
  }
}

/**
 * A warm-up load (not measured), then the measured one, with the server's CPU time read
 * from /proc before and after it: the steady figure even on a machine that the load
 * generator shares, where requests per second and latencies move with it.
 */
export async function measureLoad (server: BenchServer, request: Request, options: LoadOptions & { warmup: number }): Promise<LoadResult> {
  if (options.warmup > 0) await cannon(server, request, { connections: options.connections, amount: Math.max(options.warmup, options.connections) })
  const cpuBefore = server.cpuMicros()
  const run = await cannon(server, request, options)
  return summarize(run, server.cpuMicros() - cpuBefore)
}

/** Loads run at the same time, each summarized on its own; no CPU reading (the server serves them all). */
export async function concurrentLoads (loads: Array<{ server: BenchServer, request: Request }>, options: LoadOptions): Promise<LoadResult[]> {
  const runs = await Promise.all(loads.map(({ server, request }) => cannon(server, request, options)))
  return runs.map((run) => summarize(run, null))
}
