/**
 * Peer of the benchmark: a bare Fastify app with one JSON route, GET /health, and
 * Fastify's own logger at LOG_LEVEL on stdout (a file, under the benchmark), as the
 * service logs. What `GET /health` of the service is measured against: the price of
 * Fastify itself, before any of the service's plugins.
 *
 * Run as `node --import tsx bench/peers/bare-fastify.ts` with HOST, PORT and LOG_LEVEL.
 */
import Fastify from 'fastify'
import { closeOnSignal } from './close-on-signal.js'

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

app.get('/health', async () => ({ status: 'ok' }))

closeOnSignal(app)
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
