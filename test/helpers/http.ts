import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/** Starts `app` on a free port of the loopback and returns its base URL. */
export async function listenOnFreePort (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/** A small HTTP client over fetch for the service's routes. */
export function httpClient (baseUrl: string) {
  const call = async (method: string, path: string, { token, body, headers = {} }: { token?: string, body?: unknown, headers?: Record<string, string> } = {}) => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...headers
      },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }
  }
  return {
    call,
    login: (username: string, password: string) => call('POST', '/auth/login', { body: { username, password } }),
    data: (token: string) => call('GET', '/business/data', { token }),
    sessions: (token: string) => call('GET', '/auth/sessions', { token }),
    logout: (token: string) => call('POST', '/auth/logout', { token }),
    logoutAll: (token: string) => call('POST', '/auth/logout-all', { token }),
    endSession: (token: string, id: string) => call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, { token })
  }
}

export interface PlainResponse {
  status: number
  headers: IncomingHttpHeaders
  body: any
}

/**
 * One request over node:http from a chosen local address: each of 127.0.0.2, 127.0.0.3, …
 * is another client on the loopback, as the server (or a proxy) sees it.
 */
export function requestFrom (localAddress: string, url: string, { method = 'GET', headers = {}, body }: {
  method?: string
  headers?: Record<string, string>
  body?: unknown
} = {}): Promise<PlainResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method,
      localAddress,
      agent: false,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers }
    }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }))
    })
    request.on('error', reject)
    request.end(payload)
  })
}

/**
 * Writes `bytes` on a new TCP connection to `baseUrl` exactly as they are (what no HTTP
 * client would send), and resolves with every byte received until the server closes the
 * connection, or until `timeoutMs` have passed. The connection is not half-closed (Node's
 * server would abort the request): send `Connection: close` in a request that parses.
 */
export function exchangeRaw (baseUrl: string, bytes: Buffer | string, timeoutMs = 5000): Promise<Buffer> {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(port), hostname, () => socket.write(bytes))
    socket.setTimeout(timeoutMs, () => socket.destroy())
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // The server may close while the request is still being written (a reset): what it answered counts.
    socket.on('error', (err: NodeJS.ErrnoException) => { if (chunks.length === 0 && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err) })
    socket.on('close', () => resolve(Buffer.concat(chunks)))
  })
}
