import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * A reverse proxy of the test's own, as Heroku's router or nginx with
 * `proxy_add_x_forwarded_for` behave: it forwards every request to `target` from
 * `localAddress`, with the address of its client appended to any X-Forwarded-For the
 * client sent. Returns its own base URL; it stops when the test ends.
 */
export async function startForwardingProxy (target: string, localAddress: string): Promise<string> {
  const proxy = createServer((incoming, outgoing) => {
    const client = incoming.socket.remoteAddress ?? ''
    const forwardedFor = incoming.headers['x-forwarded-for']
    const upstream = httpRequest(new URL(incoming.url ?? '/', target), {
      method: incoming.method,
      localAddress,
      agent: false,
      headers: { ...incoming.headers, 'x-forwarded-for': forwardedFor === undefined ? client : `${String(forwardedFor)}, ${client}` }
    }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(outgoing)
    })
    upstream.on('error', () => outgoing.writeHead(502).end())
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => {
    proxy.closeAllConnections()
    proxy.close(() => resolve())
  }))
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}
