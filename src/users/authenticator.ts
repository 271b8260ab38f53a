import { silentLogger, type Logger } from '../logger.js'
import { createDummyHash, hashPassword, needsRehash, verifyPassword } from './password.js'
import type { User, UserStore } from './user-store.js'

export type AuthenticationResult =
  | { ok: true, user: User }
  | { ok: false, reason: 'unknown-user' }
  | { ok: false, reason: 'wrong-password', user: User }

export interface AuthenticatorOptions {
  /** Where the outcome of a rehash goes; nothing secret is ever given to it. */
  log?: Logger
}

/** Checks a username and password against a user store, at the same cost whether the user exists or not. */
export class Authenticator {
  readonly #users: UserStore
  readonly #dummyHash: string
  readonly #log: Logger

  private constructor (users: UserStore, dummyHash: string, log: Logger) {
    this.#users = users
    this.#dummyHash = dummyHash
    this.#log = log
  }

  static async create (users: UserStore, options: AuthenticatorOptions = {}): Promise<Authenticator> {
    return new Authenticator(users, await createDummyHash(), options.log ?? silentLogger)
  }

  /**
   * The user when the password is theirs. A failure says why, for the log only: the
   * HTTP answer and its timing are the same for an unknown user and a wrong password.
   * A disabled user is unknown here: the store does not give them. After a success,
   * a hash made with weaker parameters than the current ones is replaced.
   */
  async authenticate (username: string, password: string): Promise<AuthenticationResult> {
    const user = await this.#users.findByUsername(username)
    const matches = await verifyPassword(user?.passwordHash ?? this.#dummyHash, password)
    if (user === undefined) return { ok: false, reason: 'unknown-user' }
    if (!matches) return { ok: false, reason: 'wrong-password', user }
    if (needsRehash(user.passwordHash)) await this.#rehash(user, password)
    return { ok: true, user }
  }

  /** Best effort: a store that fails to take the new hash does not fail the login. */
  async #rehash (user: User, password: string): Promise<void> {
    try {
      const replaced = await this.#users.updatePasswordHash(user.username, { from: user.passwordHash, to: await hashPassword(password) })
      if (replaced) this.#log.info({ username: user.username }, 'password hash upgraded to the current argon2 parameters')
    } catch (err) {
      this.#log.warn({ username: user.username, reason: (err as Error).message }, 'could not upgrade the password hash; the login goes on')
    }
  }
}
