import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../../src/users/password.js'
import { expectChallenge, expectErrorShape } from '../../helpers/answers.js'
import { buildTestApp, getData, login } from '../../helpers/build-app.js'

describe('POST /auth/logout-all', () => {
  const ADA = { username: 'ada@example.com', password: 'ada-password-1815' }
  const ALAN = { username: 'alan@example.com', password: 'alan-password-1912' }
  let directory: string
  let usersFile: string

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'logout-all-'))
    usersFile = join(directory, 'users.json')
    await writeFile(usersFile, JSON.stringify([
      { username: ADA.username, passwordHash: await hashPassword(ADA.password) },
      { username: ALAN.username, passwordHash: await hashPassword(ALAN.password) }
    ]))
  })

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  async function tokenOf (app: FastifyInstance, user: { username: string, password: string }): Promise<string> {
    const response = await login(app, user.username, user.password)
    expect(response.statusCode).toBe(200)
    return response.json<{ token: string }>().token
  }

  it('answers 204 and revokes every token of the user, and only theirs', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const adaTokens = [await tokenOf(app, ADA), await tokenOf(app, ADA), await tokenOf(app, ADA)]
    const alanToken = await tokenOf(app, ALAN)
    for (const token of [...adaTokens, alanToken]) expect((await getData(app, token)).statusCode).toBe(200)

    const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${adaTokens[1]}` } })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')

    for (const token of adaTokens) {
      const data = await getData(app, token)
      expectChallenge(data, 401, 'Bearer error="invalid_token"')
    }
    const alan = await getData(app, alanToken)
    expect(alan.statusCode).toBe(200)
    expect(alan.json()).toMatchObject({ data: { user: ALAN.username } })
  })

  it('replaces the demo user with the users of USERS_FILE', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    expectErrorShape(await login(app), 401)
    expect((await login(app, ADA.username, ADA.password)).statusCode).toBe(200)
  })

  it('works with the token header', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ALAN)
    const other = await tokenOf(app, ALAN)
    expect((await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token } })).statusCode).toBe(204)
    expectErrorShape(await getData(app, other), 401)
  })

  it('lets the user log in again afterwards', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ADA)
    await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token } })
    const fresh = await tokenOf(app, ADA)
    expect((await getData(app, fresh)).statusCode).toBe(200)
  })

  it('answers 401 without a token, or with a revoked one, and revokes nothing', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const token = await tokenOf(app, ADA)
    const missing = await app.inject({ method: 'POST', url: '/auth/logout-all' })
    expectChallenge(missing, 401, 'Bearer')
    const unknown = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { token: 'B'.repeat(32) } })
    expectChallenge(unknown, 401, 'Bearer error="invalid_token"')
    expect((await getData(app, token)).statusCode).toBe(200)
  })

  it('answers 400 for different tokens in the two headers', async () => {
    const { app } = await buildTestApp({ config: { USERS_FILE: usersFile } })
    const ada = await tokenOf(app, ADA)
    const alan = await tokenOf(app, ALAN)
    const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${ada}`, token: alan } })
    expectChallenge(response, 400, 'Bearer error="invalid_request"')
    expect((await getData(app, ada)).statusCode).toBe(200)
    expect((await getData(app, alan)).statusCode).toBe(200)
  })
})
