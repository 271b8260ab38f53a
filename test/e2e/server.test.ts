import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../src/users/users-file.js'
import { httpClient } from '../helpers/http.js'
import { listeningUrl, spawnServer } from '../helpers/server-process.js'
import { selfSignedCertificate, type SelfSignedCertificate } from '../helpers/tls.js'

describe('the server process', () => {
  it('serves both services on PORT, and exits 0 on SIGTERM', async () => {
    const server = spawnServer({ PORT: '0', LOG_LEVEL: 'info' })
    const client = httpClient(await listeningUrl(server))

    expect((await client.call('GET', '/health')).body).toEqual({ status: 'ok' })
    const login = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login.status).toBe(200)
    expect((await client.data(login.body.token)).status).toBe(200)

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.stdout()).toContain('"msg":"closing"')
    expect(server.stdout()).not.toContain(login.body.token)
    expect(server.stdout()).not.toContain(DEMO_PASSWORD)
  })

  it.each([
    ['TOKEN_TTL_SECONDS', 'abc'],
    ['TOKEN_TTL_SECONDS', '0'],
    ['PORT', '-1'],
    ['LOG_LEVEL', 'chatty'],
    ['TOKEN_STORE', 'mysql'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '10.0.0.1,10.0.0.0/33'],
    ['CORS_ORIGINS', 'https://app.example.com/']
  ])('stops at start with one line naming %s when it is %j', async (variable, value) => {
    const server = spawnServer({ [variable]: value })
    expect(await server.exited).toBe(1)
    const lines = server.stderr().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^Cannot start: Invalid configuration: ${variable} `))
    expect(server.stdout()).toBe('')
  })

  it.each([
    ['a missing TLS_CERT_FILE', 'TLS_CERT_FILE', (files: SelfSignedCertificate) => ({ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: files.keyFile })],
    ['a missing TLS_KEY_FILE', 'TLS_KEY_FILE', (files: SelfSignedCertificate) => ({ TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: '/nonexistent/key.pem' })],
    ['swapped TLS files', 'TLS_CERT_FILE', (files: SelfSignedCertificate) => ({ TLS_CERT_FILE: files.keyFile, TLS_KEY_FILE: files.certFile })]
  ])('stops at start with one line naming the variable for %s', async (_case, variable, settings) => {
    const server = spawnServer(settings(selfSignedCertificate()))
    expect(await server.exited).toBe(1)
    const lines = server.stderr().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^Cannot start: Invalid configuration: ${variable} `))
    expect(server.stdout()).toBe('')
  })

  it('stops at start with one line naming a malformed USERS_FILE', async () => {
    const usersFile = join(mkdtempSync(join(tmpdir(), 'users-file-')), 'users.json')
    onTestFinished(() => rmSync(usersFile, { force: true }))
    writeFileSync(usersFile, JSON.stringify([{ username: 'not-an-email', passwordHash: 'x' }]))
    const server = spawnServer({ USERS_FILE: usersFile })
    expect(await server.exited).toBe(1)
    expect(server.stderr().trim().split('\n')).toEqual([expect.stringContaining(`USERS_FILE ${usersFile}`)])
  })
})
