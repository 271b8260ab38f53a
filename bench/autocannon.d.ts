/** The part of autocannon's programmatic API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  export interface AutocannonOptions {
    url: string
    connections?: number
    /** Requests in all, then stop; exclusive with duration. */
    amount?: number
    /** Seconds. */
    duration?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    timeout?: number
    pipelining?: number
    /** Milliseconds between samples; an `amount` run ends at the first sample after its last response. */
    sampleInt?: number
  }

  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    p50: number
    p90: number
    p99: number
    total: number
  }

  export interface AutocannonResult {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    '2xx': number
    latency: Histogram
    requests: Histogram & { sent: number }
    statusCodeStats: Record<string, { count: number }>
  }

  interface Instance {
    on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): this
  }

  function autocannon (options: AutocannonOptions): Promise<AutocannonResult>
  function autocannon (options: AutocannonOptions, callback: (err: Error | null | undefined, result: AutocannonResult) => void): Instance
  export default autocannon
}
