import type { FastifyRequest } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import type authService from '../../plugins/auth/index.js'
import type businessService from '../../plugins/business/index.js'
import type { Config } from '../../src/config.js'

/*
 * The compile-time side of the boundary between the two services, matching the runtime
 * side (business.test.ts: the business context has no token store): nothing the auth
 * module holds is a decorator typed for the whole program, so code outside it, the
 * business service above all, cannot name it without a type error. `npm run typecheck`
 * checks this file; vitest merely runs it.
 */

/** The instance the business service's plugin is given. */
type BusinessInstance = Parameters<typeof businessService>[0]

/** Never called: each line must stay a type error, or `npm run typecheck` fails (unused @ts-expect-error). */
function businessNamingAuthParts (fastify: BusinessInstance, request: FastifyRequest): unknown[] {
  return [
    // @ts-expect-error the token store is an option of the auth module's parts, not a decorator
    fastify.tokenStore,
    // @ts-expect-error the authenticator too
    fastify.authenticator,
    // @ts-expect-error and login throttling
    fastify.loginThrottle,
    // @ts-expect-error the request's session is auth's own request decorator, untyped outside it
    request.session,
    // @ts-expect-error under its old name neither
    request.validatedToken
  ]
}

describe('the auth module, seen from the business service', () => {
  it('offers no decorator that names one of its parts', () => {
    expectTypeOf(businessNamingAuthParts).toBeFunction()
    expectTypeOf<BusinessInstance>().not.toHaveProperty('tokenStore')
    expectTypeOf<BusinessInstance>().not.toHaveProperty('authenticator')
    expectTypeOf<BusinessInstance>().not.toHaveProperty('loginThrottle')
    expectTypeOf<FastifyRequest>().not.toHaveProperty('session')
  })

  it('shares what the root shares, so the lines above do fail for the right reason', () => {
    expectTypeOf<BusinessInstance['config']>().toEqualTypeOf<Config>()
    expectTypeOf<BusinessInstance['readinessChecks']>().not.toBeAny()
  })

  it('hands the auth module its parts as typed options', () => {
    type AuthOptions = Parameters<typeof authService>[1]
    expectTypeOf<AuthOptions['tokenStore']>().not.toBeAny()
    expectTypeOf<AuthOptions['clock']>().not.toBeAny()
  })
})
