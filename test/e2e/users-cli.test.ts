import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { httpClient, listenOnFreePort } from '../helpers/http.js'
import { createTestSchema, type TestSchema } from '../helpers/postgres.js'
import { PROJECT_ROOT } from '../helpers/server-process.js'
import { waitFor } from '../helpers/wait-for.js'

const CLI_ENTRY = join(PROJECT_ROOT, 'src/cli/users.ts')
const TSX_LOADER = pathToFileURL(join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href

interface CliRun { code: number | null, stdout: string, stderr: string }

/**
 * Runs src/cli/users.ts as `npm run users --` would (TypeScript through tsx, no build),
 * in an empty working directory so no developer's .env leaks in, with only `env` set;
 * `stdin` is written to it and closed.
 */
function runCli (args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'token-auth-cli-')),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => { stdout += chunk })
  child.stderr.on('data', (chunk) => { stderr += chunk })
  child.stdin.end(stdin)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const PASSWORD = 'correct horse battery staple'
const NEW_PASSWORD = 'tr0ub4dor & 3, but longer'

let schema: TestSchema
let env: Record<string, string>
beforeAll(async () => {
  schema = await createTestSchema()
  env = { USER_STORE: 'postgres', DATABASE_URL: schema.url }
})
afterAll(async () => { await schema.drop() })

async function startServer () {
  const { app, rawLogs } = await buildTestApp({ config: { USER_STORE: 'postgres', DATABASE_URL: schema.url, LOGIN_MAX_PER_IP: 1000, LOGIN_MAX_PER_USERNAME: 1000 } })
  return { client: httpClient(await listenOnFreePort(app)), rawLogs }
}

describe('npm run users', () => {
  it('adds a user who logs in over HTTP; disabling them revokes their tokens and refuses login', async () => {
    const added = await runCli(['add', 'Ada@Example.com'], env, `${PASSWORD}\n`)
    expect(added).toMatchObject({ code: 0, stdout: 'Added Ada@Example.com\n' })
    expect(added.stdout + added.stderr).not.toContain(PASSWORD)

    const { client, rawLogs } = await startServer()
    const first = await client.login('ada@example.com', PASSWORD)
    expect(first.status).toBe(200)
    const second = await client.login('Ada@Example.com', PASSWORD)
    expect(second.status).toBe(200)
    expect((await client.data(first.body.token)).status).toBe(200)
    // The database holds the users now: the demo user is not one of them.
    expect((await client.login(DEMO_USERNAME, DEMO_PASSWORD)).status).toBe(401)

    const disabled = await runCli(['disable', 'ada@example.com'], env)
    expect(disabled).toMatchObject({ code: 0, stdout: expect.stringContaining('Disabled Ada@Example.com:') })
    expect((await client.login('ada@example.com', PASSWORD)).status).toBe(401)
    await waitFor(async () => (await client.data(first.body.token)).status === 401)
    const refused = await client.data(second.body.token)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token')

    const enabled = await runCli(['enable', 'ada@example.com'], env)
    expect(enabled).toMatchObject({ code: 0, stdout: 'Enabled Ada@Example.com\n' })
    const again = await client.login('ada@example.com', PASSWORD)
    expect(again.status).toBe(200)
    expect((await client.data(again.body.token)).status).toBe(200)
    // Enabling does not bring old tokens back.
    expect((await client.data(first.body.token)).status).toBe(401)

    const changed = await runCli(['passwd', 'ada@example.com'], env, NEW_PASSWORD)
    expect(changed).toMatchObject({ code: 0, stdout: expect.stringContaining('Changed the password of Ada@Example.com;') })
    expect((await client.login('ada@example.com', PASSWORD)).status).toBe(401)
    await waitFor(async () => (await client.data(again.body.token)).status === 401)
    const withNew = await client.login('ada@example.com', NEW_PASSWORD)
    expect(withNew.status).toBe(200)

    const removed = await runCli(['remove', 'ADA@example.com'], env)
    expect(removed).toMatchObject({ code: 0, stdout: expect.stringContaining('Removed Ada@Example.com;') })
    expect((await client.login('ada@example.com', NEW_PASSWORD)).status).toBe(401)
    await waitFor(async () => (await client.data(withNew.body.token)).status === 401)

    expect(rawLogs()).not.toContain(PASSWORD)
    expect(rawLogs()).not.toContain(NEW_PASSWORD)
  }, 60_000)

  it('adds the demo user for a demo (in a database of its own): it logs in with the README\'s password, and the server warns that it can', async () => {
    const demoSchema = await createTestSchema()
    onTestFinished(() => demoSchema.drop())
    const demoEnv = { USER_STORE: 'postgres', DATABASE_URL: demoSchema.url }

    const added = await runCli(['add-demo'], demoEnv)
    expect(added).toMatchObject({ code: 0, stdout: `Added the demo user ${DEMO_USERNAME}, with the README's password\n` })
    expect(added.stderr).toContain(`npm run users -- remove ${DEMO_USERNAME}`)
    expect(added.stdout + added.stderr).not.toContain(DEMO_PASSWORD)

    const { app, logs } = await buildTestApp({ config: { ...demoEnv, LOG_LEVEL: 'info' } })
    const client = httpClient(await listenOnFreePort(app))
    const login = await client.login(DEMO_USERNAME, DEMO_PASSWORD)
    expect(login.status).toBe(200)
    expect((await client.data(login.body.token)).status).toBe(200)
    expect(logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(new RegExp(`^The demo user ${DEMO_USERNAME} can log in`)) }))

    const twice = await runCli(['add-demo'], demoEnv)
    expect(twice).toMatchObject({ code: 4, stderr: `A user ${DEMO_USERNAME} exists already\n` })
    expect((await runCli(['add-demo', 'extra@example.com'], demoEnv)).code).toBe(2)
  }, 30_000)

  it('refuses a duplicate and an unknown user with their own exit status and a clear message', async () => {
    expect((await runCli(['add', 'grace@example.com'], env, PASSWORD)).code).toBe(0)
    const duplicate = await runCli(['add', 'GRACE@example.com'], env, PASSWORD)
    expect(duplicate).toMatchObject({ code: 4, stdout: '', stderr: 'A user GRACE@example.com exists already\n' })
    const commands = ['passwd', 'disable', 'enable', 'remove']
    const runs = await Promise.all(commands.map((command) => runCli([command, 'nobody@example.com'], env, PASSWORD)))
    for (const [index, run] of runs.entries()) {
      expect(run, commands[index]).toMatchObject({ code: 3, stdout: '', stderr: 'No user nobody@example.com\n' })
    }
  }, 30_000)

  it('lists the users with their state, and no hash', async () => {
    await runCli(['add', 'list.b@example.com'], env, PASSWORD)
    await runCli(['add', 'list.a@example.com'], env, PASSWORD)
    await runCli(['disable', 'list.b@example.com'], env)
    const listed = await runCli(['list'], env)
    expect(listed.code).toBe(0)
    const lines = listed.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^EMAIL\s+STATE\s+CREATED\s+UPDATED$/)
    expect(lines.find((line) => line.startsWith('list.a@example.com'))).toMatch(/^list\.a@example\.com\s+enabled\s+\d{4}-\d\d-\d\dT/)
    expect(lines.find((line) => line.startsWith('list.b@example.com'))).toMatch(/\s+disabled\s+/)
    expect(lines.findIndex((line) => line.startsWith('list.a'))).toBeLessThan(lines.findIndex((line) => line.startsWith('list.b')))
    expect(listed.stdout).not.toContain('$argon2')
  })

  it('refuses wrong usage with exit status 2, changing nothing', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [[], '', /^Usage: npm run users/],
      [['frobnicate'], '', /^Unknown command "frobnicate"/],
      [['add'], '', /^Wrong arguments for add/],
      [['list', 'extra'], '', /^Wrong arguments for list/],
      [['add', 'not-an-email'], PASSWORD, /^Not an email address: "not-an-email"/],
      [['add', 'short@example.com'], 'short', /at least 8 characters/],
      [['add', 'empty@example.com'], '', /^No password given/]
    ]
    const runs = await Promise.all(cases.map(([args, stdin]) => runCli(args, env, stdin)))
    for (const [index, [args, , message]] of cases.entries()) {
      expect(runs[index]!.code, args.join(' ')).toBe(2)
      expect(runs[index]!.stderr, args.join(' ')).toMatch(message)
    }
    const listed = await runCli(['list'], env)
    expect(listed.stdout).not.toContain('short@example.com')
    expect(listed.stdout).not.toContain('empty@example.com')
  }, 30_000)

  it('prints its usage for help, with exit status 0', async () => {
    const help = await runCli(['--help'], {})
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: npm run users -- <command>/) })
  })

  it('says what to set when USER_STORE is not postgres', async () => {
    const run = await runCli(['list'], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/USER_STORE is memory.*Set USER_STORE=postgres and DATABASE_URL/s)
  })

  it('exits 1 with a message, and never the URL, when PostgreSQL cannot be reached', async () => {
    const run = await runCli(['list'], { USER_STORE: 'postgres', DATABASE_URL: 'postgres://admin:s3cret-pw@127.0.0.1:1/test' })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^PostgreSQL cannot be reached/)
    expect(run.stderr).not.toContain('s3cret-pw')
  })
})
