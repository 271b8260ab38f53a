import { describe, expect, it } from 'vitest'
import { clusterArguments } from '../../src/redis-client.js'

describe('clusterArguments', () => {
  it('takes every seed node of REDIS_URL, with port 6379 when none is given', () => {
    const { startupNodes } = clusterArguments(['redis://10.0.0.1:7000', 'redis://redis-b.internal', 'redis://[::1]:7002'])
    expect(startupNodes).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b.internal', port: 6379 }, { host: '::1', port: 7002 }])
  })

  it('gives every node, the ones found through the seeds too, the user and password of the URL, decoded', () => {
    const { options } = clusterArguments(['redis://app:p%40ss%3Aword@10.0.0.1:7000'])
    expect(options.redisOptions).toMatchObject({ username: 'app', password: 'p@ss:word' })
    expect(options.redisOptions).not.toHaveProperty('tls')
    expect(clusterArguments(['redis://10.0.0.1:7000']).options.redisOptions).not.toHaveProperty('password')
  })

  it('speaks TLS to every node for rediss://, and keeps host names for the certificate check', () => {
    const { options } = clusterArguments(['rediss://:secret@cluster.example.com:6380'])
    expect(options.redisOptions).toMatchObject({ tls: {}, password: 'secret' })
    const resolved: unknown[] = []
    options.dnsLookup!('node-1.cluster.example.com', (...args) => { resolved.push(...args) })
    expect(resolved).toEqual([null, 'node-1.cluster.example.com'])
  })

  it('reads from masters only, fails fast while the cluster is away, and reconnects with backoff', () => {
    const { options } = clusterArguments(['redis://10.0.0.1:7000'])
    expect(options).toMatchObject({ scaleReads: 'master', enableOfflineQueue: false })
    expect(options.redisOptions).toMatchObject({ commandTimeout: 2000 })
    const delays = [1, 2, 5, 10, 50].map((attempt) => (options.clusterRetryStrategy as (times: number) => number)(attempt))
    expect(delays).toEqual([200, 400, 3200, 5000, 5000])
  })
})
