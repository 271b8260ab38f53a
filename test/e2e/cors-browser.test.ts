import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { freePort } from '../../bench/free-port.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { listenOnFreePort } from '../helpers/http.js'
import { requireBinary, skipWithout } from '../helpers/system-binaries.js'

/**
 * A single-page app in a real browser: Debian's Chromium, headless, loads a page from one
 * origin (a port of 127.0.0.1) that logs in and reads /business/data with fetch on the
 * service, another origin (another port). The browser sends its own preflights and
 * enforces the answers. In CI a missing Chromium fails the test (.ci/run installs it);
 * elsewhere it is skipped with one line (test/helpers/system-binaries.ts).
 */

/** Flags that keep a throwaway headless Chromium quiet: no GPU, no QUIC, no calls home. */
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

interface PageOutcome {
  error?: string
  login?: number
  data?: { status: number, body: unknown }
  refused?: { status: number, challenge: string | null }
  /** The page's own session as GET /auth/sessions lists it, then ended with DELETE, then its token refused. */
  session?: { userAgent: string | null, current: boolean }
  ended?: number
  afterEnd?: number
}

/** The page's script: what a single-page app does, its outcome left in `window.outcome`. */
function pageHtml (apiUrl: string): string {
  const script = `
    window.outcome = (async () => {
      const api = ${JSON.stringify(apiUrl)}
      try {
        const login = await fetch(api + '/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: ${JSON.stringify(DEMO_USERNAME)}, password: ${JSON.stringify(DEMO_PASSWORD)} })
        })
        const { token } = await login.json()
        const data = await fetch(api + '/business/data', { headers: { Authorization: 'Bearer ' + token } })
        const refused = await fetch(api + '/business/data', { headers: { token: 'x'.repeat(32) } })
        const { sessions } = await (await fetch(api + '/auth/sessions', { headers: { Authorization: 'Bearer ' + token } })).json()
        const ended = await fetch(api + '/auth/sessions/' + sessions[0].id, { method: 'DELETE', headers: { Authorization: 'Bearer ' + token } })
        const afterEnd = await fetch(api + '/business/data', { headers: { Authorization: 'Bearer ' + token } })
        return {
          login: login.status,
          data: { status: data.status, body: await data.json() },
          refused: { status: refused.status, challenge: refused.headers.get('WWW-Authenticate') },
          session: { userAgent: sessions[0].userAgent, current: sessions[0].current },
          ended: ended.status,
          afterEnd: afterEnd.status
        }
      } catch (err) {
        return { error: String(err) }
      }
    })()`
  return `<!doctype html><meta charset="utf-8"><title>single-page app</title><script>${script}</script>`
}

/** A static server for the page, on a port of its own (a free one by default): a second origin. */
async function servePage (apiUrl: string, port = 0): Promise<string> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8')
    response.end(pageHtml(apiUrl))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The service with CORS_ORIGINS set, on a port of its own, and the requests it received. */
async function serveApi (corsOrigins: string) {
  const { app, logs } = await buildTestApp({ config: { CORS_ORIGINS: corsOrigins } })
  const url = await listenOnFreePort(app)
  // Chromium keeps sockets to the service open (a speculative preconnect carries no request,
  // so the server's close does not count it idle) for as long as the shared browser lives:
  // drop them before app.close, which this runs ahead of (onTestFinished hooks run last first).
  onTestFinished(() => { app.server.closeAllConnections() })
  const requests = () => logs
    .filter((line) => line.msg === 'incoming request')
    .map((line) => { const req = line.req as { method: string, url: string }; return `${req.method} ${req.url}` })
  return { url, requests }
}

describe.skipIf(skipWithout('chromium', 'the CORS browser test'))('a page on another origin, in headless Chromium', () => {
  let browser: BrowserContext
  let profile: string

  beforeAll(async () => {
    const executablePath = requireBinary('chromium')
    // A fresh profile each run: no cache of an earlier preflight, no state of another run.
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
    browser = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_FLAGS })
  })

  afterAll(async () => {
    await browser?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  })

  async function openPage (pageUrl: string): Promise<{ outcome: PageOutcome, console: string[] }> {
    const page = await browser.newPage()
    onTestFinished(() => page.close())
    const messages: string[] = []
    page.on('console', (message) => { messages.push(message.text()) })
    await page.goto(pageUrl)
    // Runs in the page, where the script left its outcome on the global object.
    const outcome = await page.evaluate(() => (globalThis as unknown as { outcome: Promise<PageOutcome> }).outcome)
    return { outcome, console: messages }
  }

  it('logs in, reads /business/data and ends its session with fetch from an allowed origin, after real preflights', async () => {
    // The page's port is chosen first: the service must know the page's origin.
    const pagePort = await freePort()
    const api = await serveApi(`http://127.0.0.1:${pagePort}`)
    const pageUrl = await servePage(api.url, pagePort)

    const { outcome } = await openPage(pageUrl)

    expect(outcome).toEqual({
      login: 200,
      data: { status: 200, body: { data: expect.objectContaining({ user: DEMO_USERNAME }) } },
      // A refusal is readable too, with its exposed WWW-Authenticate.
      refused: { status: 401, challenge: 'Bearer error="invalid_token"' },
      // The session records the browser's own User-Agent; DELETE ends it, and its token is dead.
      session: { userAgent: expect.stringContaining('Chrome/'), current: true },
      ended: 204,
      afterEnd: 401
    })
    // The browser asked first: JSON bodies and token headers are not "simple" requests, nor is DELETE.
    expect(api.requests()).toEqual(expect.arrayContaining([
      'OPTIONS /auth/login', 'POST /auth/login', 'OPTIONS /business/data', 'GET /business/data',
      expect.stringMatching(/^OPTIONS \/auth\/sessions\/[A-Za-z0-9_-]{16}$/), expect.stringMatching(/^DELETE \/auth\/sessions\//)
    ]))
  })

  it('cannot call the API from an origin that CORS_ORIGINS does not list: fetch fails, the login is never sent', async () => {
    const api = await serveApi(`http://127.0.0.1:${await freePort()}`)
    const otherPageUrl = await servePage(api.url)

    const { outcome, console } = await openPage(otherPageUrl)

    expect(outcome.error).toBe('TypeError: Failed to fetch')
    expect(console.join('\n')).toMatch(/blocked by CORS policy/)
    expect(api.requests()).toEqual(['OPTIONS /auth/login'])
  })
})
