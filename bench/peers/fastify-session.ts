/**
 * Peer of the benchmark: the leanest session check a Fastify user has, @fastify/session
 * (its default in-memory store) with @fastify/cookie, the session's idle expiry reset on
 * every request (`rolling: true`, a 30 s max age: the service's default idle lifetime),
 * and Fastify's own logger at LOG_LEVEL on stdout (a file, under the benchmark). What
 * the service's `GET /business/data` is measured against.
 *
 * POST /login (the demo credentials, compared as they are: the benchmark logs in once)
 * opens a session; GET /data answers the data for a live session, 401 otherwise.
 * Run as `node --import tsx bench/peers/fastify-session.ts` with HOST, PORT and LOG_LEVEL.
 */
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify from 'fastify'
import { closeOnSignal } from './close-on-signal.js'

declare module 'fastify' {
  interface Session {
    username?: string
  }
}

const DEMO = { username: 'jsf.fusco@gmail.com', password: 'postman' }

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: 'a benchmark secret of at least thirty-two characters',
  rolling: true,
  saveUninitialized: false,
  cookie: { secure: false, httpOnly: true, sameSite: 'strict', maxAge: 30_000 }
})

app.post<{ Body: { username: string, password: string } }>('/login', async (request, reply) => {
  const { username, password } = request.body
  if (username !== DEMO.username || password !== DEMO.password) return reply.code(401).send({ message: 'wrong credentials' })
  request.session.username = username
  return { username }
})

app.get('/data', async (request, reply) => {
  const username = request.session.username
  if (username === undefined) return reply.code(401).send({ message: 'no session' })
  reply.header('cache-control', 'no-store')
  return { data: { message: `Hello ${username}, here is your business data`, user: username } }
})

closeOnSignal(app)
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
