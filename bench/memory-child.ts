/**
 * Child process of the memory scenario, run as
 * `node --expose-gc --import <tsx loader> bench/memory-child.ts <sizes> <cleanup tokens>`,
 * so that nothing of the benchmark's own heap blurs the numbers. Prints one JSON line
 * (MemoryReport) on stdout.
 *
 * - Memory per live token: a MemoryTokenStore filled up to each size (digests from
 *   digestToken(generateToken(user)), 1000 users), each session with its device: one of
 *   1000 distinct user agents (real-looking ones, 30 to 140 characters) and one of
 *   100 000 client addresses, a quarter of them IPv6 (so at 1M tokens an address is
 *   shared by ten sessions, as logins from one home, office or carrier NAT are), both
 *   made afresh for each token, as a request's headers are, and through deviceOf as the
 *   login route passes them. Measured after full collections as the JS heap
 *   plus ArrayBuffer memory (typed arrays live outside the JS heap, and count too).
 * - Cleanup: a store of `cleanup tokens` tokens issued over ten seconds of a fake clock,
 *   the clock moved past their expiry, then one removeExpired, timed, with
 *   perf_hooks.monitorEventLoopDelay (1 ms resolution) recording the longest stall.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { deviceOf, type Device } from '../src/tokens/device.js'
import { policyFromSeconds } from '../src/tokens/lifetime.js'
import { MemoryTokenStore } from '../src/tokens/memory-token-store.js'
import { digestToken, generateToken } from '../src/tokens/token.js'

export interface MemorySample {
  tokens: number
  /** Distinct user agents and client addresses among the tokens. */
  userAgents: number
  addresses: number
  /** JS heap plus ArrayBuffers, per live token (bytes). */
  bytesPerToken: number
  /** Of which the JS heap alone (heapUsed), per token. */
  heapBytesPerToken: number
  /** Time to issue the tokens (ms), digests included. */
  fillMs: number
}

export interface CleanupSample {
  tokens: number
  removed: number
  totalMs: number
  /** The longest event-loop stall while removeExpired ran (ms). */
  maxStallMs: number
  /** The 99th percentile of the event-loop delay while it ran (ms). */
  p99StallMs: number
}

export interface MemoryReport {
  gcExposed: boolean
  samples: MemorySample[]
  cleanup: CleanupSample
}

const USERS = 1000
const USER_AGENTS = 1000
const ADDRESSES = 100_000
const START = Date.parse('2026-01-01T00:00:00Z')

async function settled (): Promise<{ heap: number, total: number }> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await nextTurn()
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return { heap: heapUsed, total: heapUsed + arrayBuffers }
}

/** User agent `k` of USER_AGENTS, each distinct, in the shapes real clients send. */
function userAgentOf (k: number): string {
  switch (k % 4) {
    case 0: return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${120 + k % 20}.0.${6000 + k}.${k % 200} Safari/537.36`
    case 1: return `Mozilla/5.0 (X11; Linux x86_64; rv:${120 + k % 30}.0) Gecko/20100101 Firefox/${120 + k % 30}.0.${k}`
    case 2: return `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${k % 8} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${k % 8} Mobile/15E${k} Safari/604.1`
    default: return `okhttp/4.${k % 13}.${k} (acme-android-app/3.${k % 40})`
  }
}

/** Client address `a` of ADDRESSES, each distinct: IPv4 spread over the space, every fourth an IPv6 /64 and interface id. */
function addressOf (a: number): string {
  const spread = Math.imul(a, 2654435761) >>> 0
  if (a % 4 === 3) return `2001:db8:${(a >>> 8).toString(16)}:${(a & 255).toString(16)}:${(spread >>> 16).toString(16)}:${(spread & 0xffff).toString(16)}:1:${(a % 97).toString(16)}`
  return `${spread >>> 24}.${(spread >>> 16) & 255}.${(spread >>> 8) & 255}.${spread & 255}`
}

/**
 * The device of token `i`, as the login route makes it from the request (deviceOf): user
 * agents and addresses in a different order, so that neither follows the other.
 */
function sessionDevice (i: number): Device {
  return deviceOf(userAgentOf((i * 7) % USER_AGENTS), addressOf((i * 13) % ADDRESSES))
}

async function fill (store: MemoryTokenStore, from: number, to: number, at: (i: number) => number): Promise<void> {
  for (let i = from; i < to; i++) {
    const username = `user${i % USERS}@example.com`
    await store.issue(digestToken(generateToken(username)), username, sessionDevice(i), at(i))
  }
}

async function memoryPerToken (sizes: number[]): Promise<MemorySample[]> {
  const samples: MemorySample[] = []
  // Warm up the code paths (and the digest and id generators) before the baseline.
  const warm = new MemoryTokenStore(policyFromSeconds(30, 86_400))
  await fill(warm, 0, 20_000, () => START)
  await warm.close()

  const store = new MemoryTokenStore(policyFromSeconds(30, 86_400))
  const baseline = await settled()
  let issued = 0
  let fillMs = 0
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const started = performance.now()
    await fill(store, issued, size, () => START)
    fillMs += performance.now() - started
    issued = size
    const now = await settled()
    samples.push({
      tokens: size,
      userAgents: Math.min(size, USER_AGENTS),
      addresses: Math.min(size, ADDRESSES),
      bytesPerToken: (now.total - baseline.total) / size,
      heapBytesPerToken: (now.heap - baseline.heap) / size,
      fillMs
    })
  }
  await store.close()
  return samples
}

async function cleanup (tokens: number): Promise<CleanupSample> {
  // Idle lifetime 1 s: tokens issued over ten seconds of the clock, all expired 12 s after the start.
  const store = new MemoryTokenStore(policyFromSeconds(1, 5))
  await fill(store, 0, tokens, (i) => START + Math.floor(i * 10_000 / tokens))
  await settled()
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const started = performance.now()
  const removed = await store.removeExpired(START + 12_000)
  const totalMs = performance.now() - started
  // One more turn, so that a stall at the very end is recorded too.
  await new Promise((resolve) => setTimeout(resolve, 2))
  delay.disable()
  return {
    tokens,
    removed,
    totalMs,
    maxStallMs: delay.max / 1e6,
    p99StallMs: delay.percentile(99) / 1e6
  }
}

const sizes = (process.argv[2] ?? '100000,1000000').split(',').map(Number)
const cleanupTokens = Number(process.argv[3] ?? 1_000_000)
const report: MemoryReport = {
  gcExposed: typeof globalThis.gc === 'function',
  samples: await memoryPerToken(sizes),
  cleanup: await cleanup(cleanupTokens)
}
process.stdout.write(JSON.stringify(report) + '\n')
