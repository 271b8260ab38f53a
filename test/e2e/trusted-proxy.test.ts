import { describe, expect, it } from 'vitest'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { startForwardingProxy } from '../helpers/forwarding-proxy.js'
import { listenOnFreePort, requestFrom } from '../helpers/http.js'

/** The proxy's own address, from which it connects to the service. */
const PROXY_ADDRESS = '127.0.0.10'
const CREDENTIALS = { username: DEMO_USERNAME, password: DEMO_PASSWORD }

/** The service on a real port, with TRUST_PROXY set and two logins per client address per window. */
async function startService (trustProxy: string) {
  const service = await buildTestApp({ config: { TRUST_PROXY: trustProxy, LOGIN_MAX_PER_IP: 2 } })
  const url = await listenOnFreePort(service.app)
  const login = (client: string, via: string, headers: Record<string, string> = {}) =>
    requestFrom(client, `${via}/auth/login`, { method: 'POST', body: CREDENTIALS, headers })
  /** The client address of every request line the service logged. */
  const loggedAddresses = () => service.logs
    .filter((line) => line.msg === 'incoming request')
    .map((line) => (line.req as { remoteAddress: string }).remoteAddress)
  return { ...service, url, login, loggedAddresses }
}

describe('behind a proxy that appends the client to X-Forwarded-For', () => {
  it.each([
    ['a hop count', '1'],
    ['a list of proxy addresses', `10.0.0.0/8, ${PROXY_ADDRESS}, ::1`],
    ['a CIDR', '127.0.0.8/29']
  ])('with TRUST_PROXY as %s, throttles and logs each client behind the proxy by its own address', async (_form, trustProxy) => {
    const service = await startService(trustProxy)
    const proxy = await startForwardingProxy(service.url, PROXY_ADDRESS)

    expect((await service.login('127.0.0.2', proxy)).status).toBe(200)
    expect((await service.login('127.0.0.2', proxy)).status).toBe(200)
    const refused = await service.login('127.0.0.2', proxy)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    // Another client behind the same proxy has its own count.
    expect((await service.login('127.0.0.3', proxy)).status).toBe(200)
    // An address the client writes itself comes before the proxy's entry: it is not believed.
    expect((await service.login('127.0.0.2', proxy, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429)

    expect(service.loggedAddresses()).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.2'])
  })

  it('with a list, never believes a client that reaches the service directly about its address', async () => {
    const service = await startService(PROXY_ADDRESS)
    const spoofed = ['198.51.100.1', '198.51.100.2', '198.51.100.3']
    const answers = []
    for (const address of spoofed) answers.push((await service.login('127.0.0.4', service.url, { 'x-forwarded-for': address })).status)
    expect(answers).toEqual([200, 200, 429])
    expect(service.loggedAddresses()).toEqual(['127.0.0.4', '127.0.0.4', '127.0.0.4'])
  })

  it('with a hop count, believes a direct client (hence the warning at start)', async () => {
    const service = await startService('1')
    const answer = await service.login('127.0.0.4', service.url, { 'x-forwarded-for': '198.51.100.1' })
    expect(answer.status).toBe(200)
    expect(service.loggedAddresses()).toEqual(['198.51.100.1'])
  })
})

describe('TRUST_PROXY at start', () => {
  it('logs one warning that a list is safer when it is a hop count', async () => {
    const { logs } = await buildTestApp({ config: { TRUST_PROXY: '1' } })
    const warnings = logs.filter((line) => line.level === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ trustProxy: 1, msg: expect.stringMatching(/TRUST_PROXY is a hop count.*a list .* is safer/) })
  })

  it.each(['false', '0', PROXY_ADDRESS, 'loopback, fd00::/8'])('logs no warning about it when it is %j', async (trustProxy) => {
    const { logs } = await buildTestApp({ config: { TRUST_PROXY: trustProxy } })
    expect(logs.filter((line) => String(line.msg).includes('TRUST_PROXY'))).toEqual([])
  })
})
