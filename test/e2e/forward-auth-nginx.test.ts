import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { freePort } from '../../bench/free-port.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { listenOnFreePort, requestFrom } from '../helpers/http.js'
import { PROJECT_ROOT } from '../helpers/server-process.js'
import { requireBinary, skipWithout } from '../helpers/system-binaries.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * The forward-auth route behind a real gateway: Debian's nginx, configured by
 * examples/nginx.conf (its placeholders replaced), with auth_request to this service
 * and an upstream of the test's own. In CI a missing nginx fails the test (.ci/run
 * installs it); on a developer's machine without nginx it is skipped.
 */
const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'examples/nginx.conf')

interface UpstreamRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/** The protected service: answers every request with what it received, and keeps a list of them. */
async function startUpstream () {
  const received: UpstreamRequest[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { body += chunk })
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body })
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({
        upstream: true,
        user: request.headers['x-auth-user'] ?? null,
        method: request.method,
        url: request.url,
        body
      }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, received }
}

function canConnect (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** Runs nginx in the foreground on examples/nginx.conf, everything it writes under a temporary directory. */
async function startNginx (authUrl: string, upstreamUrl: string): Promise<string> {
  const nginxBinary = requireBinary('nginx')
  const runDir = await mkdtemp(join(tmpdir(), 'forward-auth-nginx-'))
  onTestFinished(() => rm(runDir, { recursive: true, force: true }))
  const port = await freePort()
  const template = await readFile(EXAMPLE_CONFIG, 'utf8')
  const config = template
    .replaceAll('__LISTEN__', `127.0.0.1:${port}`)
    .replaceAll('__AUTH_URL__', authUrl)
    .replaceAll('__UPSTREAM_URL__', upstreamUrl)
    .replaceAll('__RUN_DIR__', runDir)
  expect(config).not.toMatch(/__[A-Z_]+__/)
  const configFile = join(runDir, 'nginx.conf')
  await writeFile(configFile, config)

  // -p and -e keep nginx's prefix and its first error log out of /etc/nginx and /var/log/nginx;
  // one foreground process, so that one signal stops it.
  const nginx = spawn(nginxBinary, ['-p', runDir, '-e', join(runDir, 'error.log'), '-c', configFile, '-g', 'daemon off; master_process off;'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  nginx.stdout.on('data', (chunk) => { output += chunk })
  nginx.stderr.on('data', (chunk) => { output += chunk })
  const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()))
  onTestFinished(async () => {
    if (nginx.exitCode !== null || nginx.signalCode !== null) return
    nginx.kill('SIGTERM')
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])
    if (!stopped) nginx.kill('SIGKILL')
  })

  await waitFor(async () => {
    if (await canConnect(port)) return true
    if (nginx.exitCode !== null) {
      const errorLog = await readFile(join(runDir, 'error.log'), 'utf8').catch(() => '')
      throw new Error(`nginx exited with ${nginx.exitCode}: ${output}${errorLog}`)
    }
    return false
  }, { timeoutMs: 10_000, what: `nginx to listen on ${port}` })
  return `http://127.0.0.1:${port}`
}

/** The auth service (FORWARD_AUTH on, and `settings`), the upstream, and nginx in front of both. */
async function startGateway (settings: Record<string, string | number> = {}) {
  const service = await buildTestApp({ config: { FORWARD_AUTH: 'true', ...settings } })
  const authUrl = await listenOnFreePort(service.app)
  const upstream = await startUpstream()
  const gatewayUrl = await startNginx(authUrl, upstream.url)

  async function call (method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    const response = await fetch(gatewayUrl + path, { method, headers, body })
    const text = await response.text()
    const json = response.headers.get('content-type')?.startsWith('application/json') === true ? JSON.parse(text) : undefined
    return { status: response.status, headers: response.headers, json }
  }

  async function login (): Promise<string> {
    const response = await call('POST', '/auth/login', { 'content-type': 'application/json' },
      JSON.stringify({ username: DEMO_USERNAME, password: DEMO_PASSWORD }))
    expect(response.status).toBe(200)
    return response.json.token
  }

  return { clock: service.clock, logs: service.logs, gatewayUrl, upstream, call, login }
}

describe.skipIf(skipWithout('nginx', 'the nginx gateway tests'))('nginx auth_request in front of an upstream (examples/nginx.conf)', () => {
  it('lets a request reach the upstream only with a valid token, with X-Auth-User set, until the idle lifetime ends', async () => {
    const { clock, upstream, call, login } = await startGateway()

    const anonymous = await call('GET', '/api/orders')
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
    expect(upstream.received).toHaveLength(0)

    const token = await login()
    const withBearer = await call('GET', '/api/orders?page=2', { authorization: `Bearer ${token}` })
    expect(withBearer.status).toBe(200)
    expect(withBearer.json).toEqual({ upstream: true, user: DEMO_USERNAME, method: 'GET', url: '/api/orders?page=2', body: '' })

    const withTokenHeader = await call('GET', '/api/orders', { token })
    expect(withTokenHeader.status).toBe(200)
    expect(withTokenHeader.json).toMatchObject({ user: DEMO_USERNAME })

    // Each pass through the gateway reinflates the token: 40 s after login, it still lives.
    clock.advanceSeconds(20)
    expect((await call('GET', '/api/orders', { authorization: `Bearer ${token}` })).status).toBe(200)
    clock.advanceSeconds(20)
    expect((await call('GET', '/api/orders', { authorization: `Bearer ${token}` })).status).toBe(200)
    expect(upstream.received).toHaveLength(4)

    // An idle lifetime (30 s) without use: the token is dead, and the upstream sees nothing more.
    clock.advanceSeconds(30)
    const expired = await call('GET', '/api/orders', { authorization: `Bearer ${token}` })
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    expect(upstream.received).toHaveLength(4)
  })

  it('sets X-Auth-User itself: a client cannot choose the user the upstream sees', async () => {
    const { upstream, call, login } = await startGateway()

    const spoofed = await call('GET', '/admin', { 'x-auth-user': 'admin@example.com' })
    expect(spoofed.status).toBe(401)
    expect(upstream.received).toHaveLength(0)

    const token = await login()
    const response = await call('GET', '/admin', { token, 'x-auth-user': 'admin@example.com' })
    expect(response.status).toBe(200)
    expect(response.json).toMatchObject({ user: DEMO_USERNAME })
    expect(upstream.received[0]?.headers['x-auth-user']).toBe(DEMO_USERNAME)
  })

  it('checks any method the same way, and passes the body to the upstream only', async () => {
    const { upstream, call, login } = await startGateway()
    const body = JSON.stringify({ item: 'book', quantity: 2 })

    const anonymous = await call('POST', '/api/orders', { 'content-type': 'application/json' }, body)
    expect(anonymous.status).toBe(401)

    const token = await login()
    const response = await call('POST', '/api/orders', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body)
    expect(response.status).toBe(200)
    expect(response.json).toEqual({ upstream: true, user: DEMO_USERNAME, method: 'POST', url: '/api/orders', body })
    expect(upstream.received).toHaveLength(1)
  })

  it('refuses an unknown token, and keeps the auth service\'s challenge', async () => {
    const { upstream, call } = await startGateway()
    const response = await call('GET', '/api/orders', { authorization: `Bearer ${'D'.repeat(32)}` })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    expect(upstream.received).toHaveLength(0)
  })

  it('passes each client\'s address to the auth service, which throttles and logs by it (TRUST_PROXY=loopback)', async () => {
    const { gatewayUrl, logs } = await startGateway({ TRUST_PROXY: 'loopback', LOGIN_MAX_PER_IP: 1 })
    const loginFrom = async (client: string) => (await requestFrom(client, `${gatewayUrl}/auth/login`, {
      method: 'POST',
      body: { username: DEMO_USERNAME, password: DEMO_PASSWORD }
    })).status
    expect(await loginFrom('127.0.0.2')).toBe(200)
    expect(await loginFrom('127.0.0.2')).toBe(429)
    expect(await loginFrom('127.0.0.3')).toBe(200)
    const loginAddresses = logs
      .filter((line) => line.msg === 'incoming request' && (line.req as { url: string }).url === '/auth/login')
      .map((line) => (line.req as { remoteAddress: string }).remoteAddress)
    expect(loginAddresses).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.3'])
  })

  it('refuses two different tokens (nginx turns the auth service\'s 400 into its own 500)', async () => {
    const { upstream, call, login } = await startGateway()
    const token = await login()
    const other = await login()
    const response = await call('GET', '/api/orders', { authorization: `Bearer ${token}`, token: other })
    // auth_request knows 2xx, 401 and 403; any other answer is an error to nginx.
    expect(response.status).toBe(500)
    expect(upstream.received).toHaveLength(0)
  })
})
