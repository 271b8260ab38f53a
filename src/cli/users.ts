import { text } from 'node:stream/consumers'
import { Compile } from 'typebox/compile'
import { ConfigError, loadConfig } from '../config.js'
import { StoreUnavailableError } from '../store-unavailable-error.js'
import { hashPassword, MAX_PASSWORD_LENGTH } from '../users/password.js'
import { PostgresUserStore } from '../users/postgres-user-store.js'
import { DuplicateUserError, UnknownUserError, type UserAdmin, type UserSummary } from '../users/user-store.js'
import { DEMO_PASSWORD, DEMO_USERNAME, UsernameSchema } from '../users/users-file.js'

/**
 * Manages the users of the PostgreSQL user store, so that nobody edits hashes by hand:
 *   npm run users -- add ada@example.com          (asks for the password, not echoed)
 *   printf '%s' "$PASSWORD" | npm run --silent users -- passwd ada@example.com
 * Configuration as the server takes it: the environment, then .env.
 */

const USAGE = `Usage: npm run users -- <command> [email]

Commands:
  add <email>       add a user; the password is asked for (twice, not echoed),
                    or read from standard input when it is not a terminal
  passwd <email>    set a user's password; their tokens are revoked
  disable <email>   refuse the user's logins and revoke their tokens
  enable <email>    let a disabled user log in again
  remove <email>    delete the user and revoke their tokens
  list              every user, with state, creation and last change
  add-demo          add the demo user of the README and the Postman collection
                    (${DEMO_USERNAME}, whose password everyone knows), for a demo only

The users live in PostgreSQL at DATABASE_URL (USER_STORE=postgres), read from the
environment or .env, as the server reads them. Pending migrations are applied first.

Exit status: 0 done, 1 PostgreSQL failed or cannot be reached, 2 wrong usage or
configuration, 3 no such user, 4 the user exists already.`

const EXIT = { ok: 0, failed: 1, usage: 2, unknownUser: 3, duplicate: 4 } as const

/** Passwords shorter than this are refused (NIST SP 800-63B's floor). */
const MIN_PASSWORD_LENGTH = 8

const COMMANDS_WITH_EMAIL = new Set(['add', 'passwd', 'disable', 'enable', 'remove'])
const COMMANDS_WITHOUT_ARGUMENTS = new Set(['list', 'add-demo'])

const usernameValidator = Compile(UsernameSchema)

/** A failure with the message to print and the exit status to end with. */
class CliError extends Error {
  constructor (message: string, readonly exitCode: number) {
    super(message)
  }
}

async function main (args: string[]): Promise<number> {
  const [command, ...rest] = args
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? console.error : console.log)(USAGE)
    return command === undefined ? EXIT.usage : EXIT.ok
  }
  const withoutArguments = COMMANDS_WITHOUT_ARGUMENTS.has(command)
  if (withoutArguments ? rest.length !== 0 : !COMMANDS_WITH_EMAIL.has(command) || rest.length !== 1) {
    throw new CliError(COMMANDS_WITH_EMAIL.has(command) || withoutArguments
      ? `Wrong arguments for ${command}.\n\n${USAGE}`
      : `Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`, EXIT.usage)
  }
  const email = rest[0]?.trim() ?? ''
  if (!withoutArguments && !usernameValidator.Check(email)) {
    throw new CliError(`Not an email address: ${JSON.stringify(email)}`, EXIT.usage)
  }

  const store = openStore()
  try {
    switch (command) {
      case 'add': {
        if (await store.has(email)) throw new DuplicateUserError(email)
        await store.add(email, await hashPassword(await readNewPassword()))
        console.log(`Added ${email}`)
        break
      }
      case 'passwd': {
        if (!await store.has(email)) throw new UnknownUserError(email)
        const username = await store.setPassword(email, await hashPassword(await readNewPassword()))
        console.log(`Changed the password of ${username}; their tokens are revoked`)
        break
      }
      case 'disable':
        console.log(`Disabled ${await store.setDisabled(email, true)}: logins are refused and their tokens revoked`)
        break
      case 'enable':
        console.log(`Enabled ${await store.setDisabled(email, false)}`)
        break
      case 'remove':
        console.log(`Removed ${await store.remove(email)}; their tokens are revoked`)
        break
      case 'list':
        printUsers(await store.list())
        break
      case 'add-demo': {
        if (await store.has(DEMO_USERNAME)) throw new DuplicateUserError(DEMO_USERNAME)
        // The well-known demo password, shorter than a chosen one may be: only for this user.
        await store.add(DEMO_USERNAME, await hashPassword(DEMO_PASSWORD))
        console.log(`Added the demo user ${DEMO_USERNAME}, with the README's password`)
        console.error(`Anyone who has read the README can log in as ${DEMO_USERNAME}: remove it before this database serves ` +
          `anything but a demo (npm run users -- remove ${DEMO_USERNAME}).`)
        break
      }
    }
    return EXIT.ok
  } finally {
    await store.close()
  }
}

function openStore (): UserAdmin & { close(): Promise<void> } {
  const config = loadConfig(process.env, { dotenv: true })
  if (config.USER_STORE !== 'postgres') {
    throw new CliError(
      'USER_STORE is memory: the server then takes its users from USERS_FILE (see `npm run hash-password`) ' +
      'or serves the demo user, and no other process can change them. Set USER_STORE=postgres and DATABASE_URL.',
      EXIT.usage)
  }
  return new PostgresUserStore({ connectionString: config.DATABASE_URL, maxConnections: 2 })
}

/** The new password: from a prompt without echo, asked twice, on a terminal; else standard input, less one final newline. */
async function readNewPassword (): Promise<string> {
  let password: string
  if (process.stdin.isTTY) {
    password = await promptHidden('Password: ')
    if (await promptHidden('Repeat the password: ') !== password) throw new CliError('The two passwords differ; nothing changed', EXIT.usage)
  } else {
    password = (await text(process.stdin)).replace(/\r?\n$/, '')
  }
  if (password.length === 0) throw new CliError('No password given; nothing changed', EXIT.usage)
  if ([...password].length < MIN_PASSWORD_LENGTH) throw new CliError(`The password needs at least ${MIN_PASSWORD_LENGTH} characters; nothing changed`, EXIT.usage)
  if (password.length > MAX_PASSWORD_LENGTH) throw new CliError(`The password may have at most ${MAX_PASSWORD_LENGTH} characters; nothing changed`, EXIT.usage)
  return password
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C cancels. */
function promptHidden (prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve, reject) => {
    let characters: string[] = []
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') {
          finish()
          resolve(characters.join(''))
          return
        }
        if (character === '\u0003') {
          finish()
          reject(new CliError('Cancelled; nothing changed', 130))
          return
        }
        if (character === '\u007f' || character === '\b') characters = characters.slice(0, -1)
        else if (character === '\u0015') characters = [] // Ctrl-U: start the line again
        else if (character >= ' ') characters.push(character)
      }
    }
    stdin.on('data', onData)
  })
}

function printUsers (users: UserSummary[]): void {
  if (users.length === 0) {
    console.error('No users')
    return
  }
  const rows = [
    ['EMAIL', 'STATE', 'CREATED', 'UPDATED'],
    ...users.map((user) => [user.username, user.disabled ? 'disabled' : 'enabled', user.createdAt.toISOString(), user.updatedAt.toISOString()])
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd())
}

function describeFailure (err: unknown): { message: string, exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode }
  if (err instanceof ConfigError) return { message: err.message, exitCode: EXIT.usage }
  if (err instanceof UnknownUserError) return { message: err.message, exitCode: EXIT.unknownUser }
  if (err instanceof DuplicateUserError) return { message: err.message, exitCode: EXIT.duplicate }
  // The message names the host and the failure, never DATABASE_URL (which may hold a password).
  if (err instanceof StoreUnavailableError) return { message: err.message, exitCode: EXIT.failed }
  return { message: `Failed: ${(err as Error).message}`, exitCode: EXIT.failed }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (err) {
  const { message, exitCode } = describeFailure(err)
  console.error(message)
  process.exitCode = exitCode
}
