import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Clock } from '../../src/clock.js'
import { secondsLeft } from '../../src/tokens/lifetime.js'
import { digestToken, generateToken, isTokenShaped } from '../../src/tokens/token.js'
import type { TokenRecord } from '../../src/tokens/token-store.js'
import { IN_PROCESS_ONLY } from '../in-process-routes.js'
import { BearerHeadersSchema, readPresentedToken, sendBearerChallenge } from '../shared/bearer.js'
import { ErrorSchema, sendError } from '../shared/errors.js'
import { ValidateTokenRequestSchema, ValidateTokenResponseSchema } from '../shared/token-validation.js'
import {
  CredentialsSchema, LoginResponseSchema, NoContentSchema, SessionsResponseSchema, TokenErrorResponses, type Session
} from './schemas.js'

export interface AuthRoutesOptions {
  clock: Clock
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The record of the request's token once requireToken has validated (and reinflated) it. */
    validatedToken: TokenRecord | null
  }
}

/**
 * The authentication service's routes: login, logout, logout-all, sessions, and the
 * internal validateToken that other services reach through `fastify.inject()`.
 * Encapsulated: registered with the prefix /auth, beside the token store, users and
 * cleanup it needs, none of which the rest of the process can see.
 */
const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (fastify, { clock }) => {
  const store = fastify.tokenStore

  // CONTRACT: a body that is not JSON is a 400 here, not Fastify's 415.
  fastify.addContentTypeParser('*', (_request, _payload, done) => {
    done(Object.assign(new Error('The body must be JSON (Content-Type: application/json)'), { statusCode: 400 }), undefined)
  })

  fastify.decorateRequest('validatedToken', null)

  /** preHandler for routes that need a live token: validates it (which reinflates it) or answers 400/401. */
  async function requireToken (request: FastifyRequest<{ Headers: { authorization?: string, token?: string } }>, reply: FastifyReply) {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
    const record = isTokenShaped(presented.token) ? await store.validate(digestToken(presented.token), clock.now()) : null
    if (record === null) return sendBearerChallenge(reply, 'invalid_token')
    request.validatedToken = record
  }

  fastify.post('/login', {
    schema: {
      tags: ['auth'],
      summary: 'Log in with an email and a password; answers a bearer token',
      body: CredentialsSchema,
      response: { 200: LoginResponseSchema, 400: ErrorSchema, 401: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const { username, password } = request.body
    const result = await fastify.authenticator.authenticate(username, password)
    if (!result.ok) {
      // The username is logged only when it exists: a mistyped password often lands in it.
      request.log.info({ username: result.reason === 'wrong-password' ? result.user.username : undefined, reason: result.reason }, 'login failed')
      return sendError(reply, 401, 'Invalid username or password')
    }
    const token = generateToken()
    const now = clock.now()
    const record = await store.issue(digestToken(token), result.user.username, now)
    request.log.info({ username: record.username, session: record.id }, 'login succeeded')
    reply.header('cache-control', 'no-store')
    return { token, tokenType: 'Bearer' as const, expiresIn: secondsLeft(record.expiresAt, now) }
  })

  fastify.post('/logout', {
    schema: {
      tags: ['auth'],
      summary: 'Revoke the token of the request',
      security: [{ bearer: [] }, { tokenHeader: [] }],
      headers: BearerHeadersSchema,
      response: { 204: NoContentSchema, ...TokenErrorResponses }
    }
  }, async (request, reply) => {
    const presented = readPresentedToken(request.headers)
    if (presented.kind !== 'token') return sendBearerChallenge(reply, presented.kind)
    const revoked = isTokenShaped(presented.token) ? await store.revoke(digestToken(presented.token), clock.now()) : null
    if (revoked === null) return sendBearerChallenge(reply, 'invalid_token')
    request.log.info({ username: revoked.username, session: revoked.id }, 'logged out')
    return reply.code(204).send(null)
  })

  fastify.post('/logout-all', {
    preHandler: requireToken,
    schema: {
      tags: ['auth'],
      summary: 'Revoke every token of the user of the request',
      security: [{ bearer: [] }, { tokenHeader: [] }],
      headers: BearerHeadersSchema,
      response: { 204: NoContentSchema, ...TokenErrorResponses }
    }
  }, async (request, reply) => {
    const { username } = validated(request)
    const revoked = await store.revokeAllForUser(username)
    request.log.info({ username, revoked }, 'logged out everywhere')
    return reply.code(204).send(null)
  })

  fastify.get('/sessions', {
    preHandler: requireToken,
    schema: {
      tags: ['auth'],
      summary: 'The live sessions of the user of the request',
      security: [{ bearer: [] }, { tokenHeader: [] }],
      headers: BearerHeadersSchema,
      response: { 200: SessionsResponseSchema, ...TokenErrorResponses }
    }
  }, async (request, reply) => {
    const current = validated(request)
    const records = await store.listForUser(current.username, clock.now())
    reply.header('cache-control', 'no-store')
    return { sessions: records.map((record) => toSession(record, current.id)) }
  })

  fastify.post('/validateToken', {
    constraints: IN_PROCESS_ONLY,
    // The business request that injects this one is logged already; one line per call is enough.
    logLevel: 'warn',
    schema: {
      hide: true,
      body: ValidateTokenRequestSchema,
      response: { 200: ValidateTokenResponseSchema, 503: ErrorSchema }
    }
  }, async (request) => {
    const { token } = request.body
    if (!isTokenShaped(token)) return { authenticated: false }
    const now = clock.now()
    const record = await store.validate(digestToken(token), now)
    if (record === null) return { authenticated: false }
    return { authenticated: true, username: record.username, expiresIn: secondsLeft(record.expiresAt, now) }
  })
}

function validated (request: FastifyRequest): TokenRecord {
  if (request.validatedToken === null) throw new Error('route without the requireToken preHandler')
  return request.validatedToken
}

function toSession (record: TokenRecord, currentId: string): Session {
  return {
    id: record.id,
    createdAt: new Date(record.createdAt).toISOString(),
    lastUsedAt: new Date(record.lastUsedAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    refreshCount: record.refreshCount,
    current: record.id === currentId
  }
}

export default authRoutes
