import { Type, type Static } from 'typebox'
import { MAX_USER_AGENT_LENGTH } from '../../src/tokens/device.js'
import { MAX_PASSWORD_LENGTH } from '../../src/users/password.js'
import { MAX_USERNAME_LENGTH } from '../../src/users/user-store.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../src/users/users-file.js'

/**
 * No control character (C0, DEL, C1): no email address holds one, and PostgreSQL cannot
 * even store U+0000. Such a username is a 400 with every user store, before any work.
 */
const WITHOUT_CONTROL_CHARACTERS = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$'

// The examples (OpenAPI 3.0's `example`, which Swagger UI puts in "Try it out") are the demo user's.
export const CredentialsSchema = Type.Object({
  username: Type.String({
    minLength: 1,
    maxLength: MAX_USERNAME_LENGTH,
    pattern: WITHOUT_CONTROL_CHARACTERS,
    description: 'the user\'s email',
    example: DEMO_USERNAME
  }),
  password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH, example: DEMO_PASSWORD })
})

export type Credentials = Static<typeof CredentialsSchema>

export const LoginResponseSchema = Type.Object({
  token: Type.String({ description: 'opaque bearer token', example: 'q3V0c2Vq1Xn8lYkPzOa5Bf0Rz7hJm2Wd' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds before the token expires unless used again', example: 30 })
}, { description: 'Token issued' })

/** A session as its user sees it in GET /auth/sessions: no token, no digest, no username. */
export const SessionSummarySchema = Type.Object({
  id: Type.String({ description: 'public handle of the session, not the token: what DELETE /auth/sessions/{id} takes' }),
  // OpenAPI 3.0's form of "a string or null" (it has no null type), which the serializer also reads.
  userAgent: Type.Unsafe<string | null>({
    type: 'string',
    nullable: true,
    description: `the User-Agent header of the login (its first ${MAX_USER_AGENT_LENGTH} characters); null when it sent none`
  }),
  address: Type.String({ description: 'the client address the login came from (through the proxies TRUST_PROXY trusts)' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  refreshCount: Type.Integer({ minimum: 0 }),
  current: Type.Boolean({ description: 'whether this is the token of the request' })
})

export const SessionsResponseSchema = Type.Object({
  sessions: Type.Array(SessionSummarySchema)
}, { description: 'The live sessions of the user' })

/** DELETE /auth/sessions/{id}: any string, so that no id is told apart before the lookup (a 400 would be). */
export const SessionParamsSchema = Type.Object({
  id: Type.String({ description: 'the `id` of one of the sessions GET /auth/sessions lists' })
})

export type SessionSummary = Static<typeof SessionSummarySchema>

/** An answer without a body, named for the OpenAPI document. */
export function noContentResponse (description: string) {
  return Type.Null({ description })
}

/** What GET /auth/verify answers with a valid token; proxies read the X-Auth-User header instead. */
export const VerifyResponseSchema = Type.Object({
  username: Type.String({ description: 'the user of the token, also in the X-Auth-User header' }),
  expiresIn: Type.Integer({ description: 'seconds before the token expires unless used again' })
}, { description: 'A valid token: its user, also in X-Auth-User' })
