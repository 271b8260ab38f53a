import { Type, type Static } from 'typebox'

/**
 * The contract of the auth service's internal `POST /auth/validateToken`: the one thing
 * the business service knows of the auth service. Either side may change its insides,
 * or move to another process, as long as both keep to these two schemas.
 */

/**
 * The longest token a caller sends: far above any token the auth service issues, and
 * short enough that its JSON, where an escaped character takes up to six bytes, stays
 * well inside the 16 KiB body limit. A longer value is no token: the routes that take
 * one answer 401 invalid_token without asking (plugins/shared/bearer.ts). The auth
 * service still answers `authenticated: false`, not an error, to any string.
 */
export const MAX_TOKEN_LENGTH = 1024

export const ValidateTokenRequestSchema = Type.Object({
  token: Type.String({ description: `what the client presented; callers send at most ${MAX_TOKEN_LENGTH} characters` })
})

/** A valid token names its user and its `expiresIn`; any other token gets no more than `false`. */
export const ValidateTokenResponseSchema = Type.Union([
  Type.Object({
    authenticated: Type.Literal(true),
    username: Type.String(),
    expiresIn: Type.Integer({ minimum: 0, description: 'seconds before the token expires unless used again' })
  }),
  Type.Object({
    authenticated: Type.Literal(false)
  })
])

export type ValidateTokenRequest = Static<typeof ValidateTokenRequestSchema>
export type ValidateTokenResponse = Static<typeof ValidateTokenResponseSchema>
