import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { describe, expect, it } from 'vitest'
import { docsUrl } from '../../plugins/openapi.js'
import { hashPassword } from '../../src/users/password.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { listenOnFreePort } from '../helpers/http.js'
import { listeningUrl, spawnServer } from '../helpers/server-process.js'
import { selfSignedCertificate } from '../helpers/tls.js'
import { waitFor } from '../helpers/wait-for.js'

const DEMO_WARNING = new RegExp(`^The demo user ${DEMO_USERNAME.replaceAll('.', '\\.')} can log in`)

describe('the start-up log', () => {
  it('says where the docs are, and warns while the demo user can log in', async () => {
    const { app, logs } = await buildTestApp({ config: { LOG_LEVEL: 'info' } })
    const baseUrl = await listenOnFreePort(app)

    await waitFor(() => logs.some((line) => line.level === 40 && DEMO_WARNING.test(String(line.msg))))
    expect(logs).toContainEqual(expect.objectContaining({ level: 30, docs: `${baseUrl}/docs`, msg: `API documentation and Swagger UI at ${baseUrl}/docs` }))
    expect(JSON.stringify(logs)).not.toContain(DEMO_PASSWORD)
  })

  it('gives no demo warning when USERS_FILE replaces the demo user', async () => {
    const usersFile = join(mkdtempSync(join(tmpdir(), 'users-file-')), 'users.json')
    writeFileSync(usersFile, JSON.stringify([{ username: 'ada@example.com', passwordHash: await hashPassword('correct horse battery staple') }]))
    const { app, logs } = await buildTestApp({ config: { LOG_LEVEL: 'debug', USERS_FILE: usersFile } })
    await listenOnFreePort(app)

    await waitFor(() => logs.some((line) => line.msg === 'no demo user: the demo credentials do not log in'))
    expect(logs.filter((line) => DEMO_WARNING.test(String(line.msg)))).toEqual([])
  })

  it('names the docs of an HTTPS server started by the process entry, which serves them with its certificate', async () => {
    const { certFile, keyFile } = selfSignedCertificate()
    const server = spawnServer({ PORT: '0', LOG_LEVEL: 'info', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })
    const baseUrl = await listeningUrl(server)
    expect(baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)

    await waitFor(() => server.stdout().includes(`"docs":"${baseUrl}/docs"`))
    await waitFor(() => server.stdout().includes(`"msg":"The demo user ${DEMO_USERNAME} can log in`))
    const trustingTheCertificate = new Agent({ connect: { ca: readFileSync(certFile) } })
    const docs = await undiciFetch(`${baseUrl}/docs`, { dispatcher: trustingTheCertificate })
    expect(docs.status).toBe(200)
    await trustingTheCertificate.close()
  })
})

describe('docsUrl', () => {
  it('is /docs at the listening origin, with an unspecified address as localhost', () => {
    expect(docsUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000/docs')
    expect(docsUrl('https://127.0.0.1:8443')).toBe('https://127.0.0.1:8443/docs')
    expect(docsUrl('http://0.0.0.0:3000')).toBe('http://localhost:3000/docs')
    expect(docsUrl('http://[::]:3000')).toBe('http://localhost:3000/docs')
  })
})
