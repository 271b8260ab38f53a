import { text } from 'node:stream/consumers'
import { hashPassword } from '../users/password.js'

/**
 * Prints the argon2id hash of the password read from standard input (one line; the
 * final newline is not part of it), for the passwordHash field of a USERS_FILE:
 *   printf '%s' 'my password' | npm run --silent hash-password
 */
const password = (await text(process.stdin)).replace(/\r?\n$/, '')
if (password.length === 0) {
  console.error('No password on standard input')
  process.exit(1)
}
console.log(await hashPassword(password))
