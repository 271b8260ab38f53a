import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../bench/free-port.js'
import { ConfigSchema } from '../../src/config.js'
import { freshCopy } from '../helpers/fresh-copy.js'
import { PATH_WITH_THIS_NODE, PROJECT_ROOT, spawnProcessGroup } from '../helpers/server-process.js'

interface PackageJson {
  engines?: { node?: string }
  scripts: Record<string, string>
}

interface AppJson {
  name: string
  description: string
  env: Record<string, { description: string, value?: string, required?: boolean }>
}

const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson
const appJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'app.json'), 'utf8')) as AppJson

/** The command of the Procfile's `web` process. */
function webCommand (): string {
  const line = readFileSync(join(PROJECT_ROOT, 'Procfile'), 'utf8').split('\n').find((entry) => entry.startsWith('web:'))
  if (line === undefined) throw new Error('the Procfile has no web process')
  return line.slice('web:'.length).trim()
}

/** Whether something listens on 0.0.0.0:port (Linux's table of IPv4 sockets). */
function listensOnAllInterfaces (port: number): boolean | undefined {
  if (!existsSync('/proc/net/tcp')) return undefined
  const local = `00000000:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((line) => {
    const fields = line.trim().split(/\s+/)
    return fields[1] === local && fields[3] === '0A'
  })
}

describe('deployment', () => {
  it('has a Procfile whose web process is npm start', () => {
    expect(webCommand()).toMatch(/(^|\s)npm start$/)
  })

  it('declares the Node version and a build that the platform runs on its own', () => {
    expect(packageJson.engines?.node).toMatch(/^>=20/)
    expect(packageJson.scripts['heroku-postbuild'] ?? packageJson.scripts.build).toBeDefined()
    expect(packageJson.scripts.start).toContain('node dist/src/server.js')
  })

  it('describes in app.json only settings that the service knows, each with a valid default', () => {
    expect(appJson.name).toBe('token-auth-service')
    const known = Object.keys(ConfigSchema.properties)
    for (const [variable, setting] of Object.entries(appJson.env)) {
      expect(known, variable).toContain(variable)
      expect(setting.description, variable).not.toBe('')
    }
    // PORT is the platform's to set, and HOST the Procfile's.
    expect(Object.keys(appJson.env)).not.toContain('PORT')
    expect(appJson.env.TRUST_PROXY?.value).toBe('1')
  })

  it('builds from a fresh copy, then serves /health from the Procfile\'s web command on PORT', { timeout: 90_000 }, async () => {
    const copy = freshCopy()
    expect(existsSync(join(copy, 'dist'))).toBe(false)
    const env = {
      PATH: PATH_WITH_THIS_NODE,
      HOME: mkdtempSync(join(tmpdir(), 'home-')),
      NODE_ENV: 'production',
      npm_config_update_notifier: 'false'
    }

    // The platform's build step: heroku-postbuild when there is one, build otherwise.
    const buildScript = packageJson.scripts['heroku-postbuild'] === undefined ? 'build' : 'heroku-postbuild'
    const build = spawnSync('npm', ['run', buildScript], { cwd: copy, env, encoding: 'utf8', timeout: 60_000 })
    expect(build.status, `${build.stdout}${build.stderr}`).toBe(0)
    expect(existsSync(join(copy, 'dist/src/server.js'))).toBe(true)

    const port = await freePort()
    const { child: web, output } = spawnProcessGroup('sh', ['-c', webCommand()], { cwd: copy, env: { ...env, PORT: String(port) } })

    let health: { status: number, body: unknown } | undefined
    const deadline = Date.now() + 45_000
    while (health === undefined && Date.now() < deadline && web.exitCode === null) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`)
        health = { status: response.status, body: await response.json() }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }

    expect(health, output()).toEqual({ status: 200, body: { status: 'ok' } })
    // HOST=0.0.0.0 from the Procfile: the platform's router can reach it.
    expect(listensOnAllInterfaces(port) ?? true, output()).toBe(true)
  })
})
