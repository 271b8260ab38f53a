import fastifyCors from '@fastify/cors'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { corsOrigins } from '../src/config.js'

/**
 * CORS for the browser pages of CORS_ORIGINS, so that a single-page app on another origin
 * can log in and call the API with `fetch`. Unset, nothing is registered: a preflight is a
 * 404, as for any unknown route. Tokens travel in headers, never in cookies, so requests
 * need no credentials mode: no `Access-Control-Allow-Credentials`, and no `*` either.
 * @see {@link https://github.com/fastify/fastify-cors}
 */
const cors: FastifyPluginAsync = async (fastify) => {
  const allowed = new Set(corsOrigins(fastify.config))
  if (allowed.size === 0) return

  await fastify.register(fastifyCors, {
    // A function rather than the list: for an origin it refuses (false), @fastify/cors adds no
    // header at all and a preflight is a 404, where a list would still answer 204 with the
    // allowed methods and headers.
    origin: (origin, callback) => { callback(null, origin !== undefined && allowed.has(origin) ? origin : false) },
    // DELETE: a user ends one of their sessions (DELETE /auth/sessions/{id}).
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'token', 'Content-Type'],
    // Readable by the page: when to retry a 429 or 503, and why a token was refused.
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    credentials: false,
    // Browsers cap this (Chromium at 2 hours); 10 minutes spares a preflight per call.
    maxAge: 600
  })
}

export default fp(cors, { name: 'cors', dependencies: ['config'] })
