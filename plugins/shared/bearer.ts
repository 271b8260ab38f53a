import type { FastifyReply } from 'fastify'
import { Type, type Static, type TSchema } from 'typebox'
import { errorResponse, sendError } from './errors.js'
import { MAX_TOKEN_LENGTH } from './token-validation.js'

/**
 * The two ways a client presents its token: `Authorization: Bearer <token>` (RFC 6750)
 * and the `token` header of the original clients.
 */
export const BearerHeadersSchema = Type.Object({
  authorization: Type.Optional(Type.String({ description: 'Bearer <token>' })),
  token: Type.Optional(Type.String({ description: 'the token alone (original clients)' }))
})

export type BearerHeaders = Static<typeof BearerHeadersSchema>

/** Either security scheme of the OpenAPI document (plugins/openapi.ts) is enough. */
const BEARER_SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { tokenHeader: [] }]

/**
 * The schema of a route that takes a token: its headers, the security schemes of the
 * OpenAPI document, its success answers and the errors every such route may answer.
 */
export function tokenRouteSchema<const Success extends Record<number, TSchema>> (tag: string, summary: string, success: Success) {
  return {
    tags: [tag],
    summary,
    security: BEARER_SECURITY,
    headers: BearerHeadersSchema,
    response: {
      ...success,
      400: errorResponse('Invalid request: two different tokens, or a malformed header'),
      401: errorResponse('No token, or an unknown, expired or revoked one (WWW-Authenticate says which)'),
      503: errorResponse('A store cannot be reached; retry after Retry-After')
    }
  }
}

/**
 * A request's token, or why it has none usable, in RFC 6750's words: `missing` (no
 * credentials: a bare challenge), `invalid_request` (both headers, with different tokens,
 * §3.1), `invalid_token` (longer than any token can be). Every other `invalid_token` needs
 * the store: the auth service finds it.
 */
export type PresentedToken =
  | { kind: 'token', token: string }
  | { kind: 'missing' }
  | { kind: 'invalid_request' }
  /** Longer than any token the validateToken contract carries: refused without a lookup. */
  | { kind: 'invalid_token' }

const BEARER_CREDENTIALS = /^Bearer +(\S.*)$/i

export function readPresentedToken (headers: BearerHeaders): PresentedToken {
  const fromAuthorization = headers.authorization === undefined
    ? undefined
    : BEARER_CREDENTIALS.exec(headers.authorization)?.[1]?.trim()
  const fromTokenHeader = headers.token?.trim() || undefined
  if (fromAuthorization !== undefined && fromTokenHeader !== undefined && fromAuthorization !== fromTokenHeader) {
    return { kind: 'invalid_request' }
  }
  const token = fromAuthorization ?? fromTokenHeader
  if (token === undefined) return { kind: 'missing' }
  return token.length > MAX_TOKEN_LENGTH ? { kind: 'invalid_token' } : { kind: 'token', token }
}

/** Why a request gets a bearer challenge instead of an answer (RFC 6750 §3). */
export type BearerFailure = 'missing' | 'invalid_request' | 'invalid_token'

const CHALLENGES: Record<BearerFailure, { statusCode: number, header: string, message: string }> = {
  missing: {
    statusCode: 401,
    header: 'Bearer',
    message: 'A bearer token is required (Authorization: Bearer <token>, or the token header)'
  },
  invalid_token: {
    statusCode: 401,
    header: 'Bearer error="invalid_token"',
    message: 'The token is unknown, expired or revoked'
  },
  invalid_request: {
    statusCode: 400,
    header: 'Bearer error="invalid_request"',
    message: 'The Authorization and token headers carry different tokens'
  }
}

/** Answers a request that did not present a usable token, with its RFC 6750 challenge. */
export function sendBearerChallenge (reply: FastifyReply, failure: BearerFailure): FastifyReply {
  const challenge = CHALLENGES[failure]
  reply.header('www-authenticate', challenge.header)
  return sendError(reply, challenge.statusCode, challenge.message)
}
