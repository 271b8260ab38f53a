import { Type, type Static } from 'typebox'

/**
 * The contract of the auth service's internal `POST /auth/validateToken`: the one thing
 * the business service knows of the auth service. Either side may change its insides,
 * or move to another process, as long as both keep to these two schemas.
 */
export const ValidateTokenRequestSchema = Type.Object({
  token: Type.String()
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
