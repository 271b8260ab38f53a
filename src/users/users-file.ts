import { readFile } from 'node:fs/promises'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { ARGON2_PHC_PATTERN, hashPassword } from './password.js'
import { MAX_USERNAME_LENGTH, normalizeUsername, type User } from './user-store.js'

export const DEMO_USERNAME = 'jsf.fusco@gmail.com'
export const DEMO_PASSWORD = 'postman'

/** A username: an email, at most MAX_USERNAME_LENGTH characters. */
export const UsernameSchema = Type.String({ format: 'email', maxLength: MAX_USERNAME_LENGTH })

/** The format of USERS_FILE, as docs/CONTRACT.md gives it. */
export const UsersFileSchema = Type.Array(Type.Object({
  username: UsernameSchema,
  passwordHash: Type.String({ pattern: ARGON2_PHC_PATTERN })
}, { additionalProperties: false }))

export type UsersFile = Static<typeof UsersFileSchema>

const usersFileValidator = Compile(UsersFileSchema)

/** Reads and checks a USERS_FILE; any fault is an Error whose message names the file and the entry. */
export async function loadUsersFile (path: string): Promise<User[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new Error(`USERS_FILE ${path}: ${(err as Error).message}`)
  }
  const firstError = usersFileValidator.Errors(parsed)[0]
  if (firstError !== undefined) {
    const where = firstError.instancePath === '' ? 'the file' : firstError.instancePath
    throw new Error(`USERS_FILE ${path}: ${where} ${firstError.message}`)
  }
  const users = parsed as UsersFile
  const seen = new Set<string>()
  for (const [index, { username }] of users.entries()) {
    const key = normalizeUsername(username)
    if (seen.has(key)) throw new Error(`USERS_FILE ${path}: /${index}/username repeats an earlier username`)
    seen.add(key)
  }
  return users
}

/** The demo user of the README and the Postman collection, hashed at start with the current parameters. */
export async function demoUsers (): Promise<User[]> {
  return [{ username: DEMO_USERNAME, passwordHash: await hashPassword(DEMO_PASSWORD) }]
}
