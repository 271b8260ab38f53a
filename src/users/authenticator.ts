import type { ConcurrencyLimiter } from '../concurrency-limiter.js'
import { silentLogger, type Logger } from '../logger.js'
import { createDummyHash, hashPassword, needsRehash, verifyPassword } from './password.js'
import type { User, UserStore } from './user-store.js'

export type AuthenticationResult =
  | { ok: true, user: User }
  | { ok: false, reason: 'unknown-user' }
  | { ok: false, reason: 'wrong-password', user: User }

/** Where argon2 work runs: a ConcurrencyLimiter, so that a flood of logins gets quick refusals rather than a growing wait. */
export type PasswordWork = Pick<ConcurrencyLimiter, 'run'>

export interface AuthenticatorOptions {
  /** Where the outcome of a rehash goes; nothing secret is ever given to it. */
  log?: Logger
  /** Runs each password verification and rehash; by default, at once. */
  passwordWork?: PasswordWork
}

const unbounded: PasswordWork = { run: (task) => task() }

/** Checks a username and password against a user store, at the same cost whether the user exists or not. */
export class Authenticator {
  readonly #users: UserStore
  readonly #dummyHash: string
  readonly #log: Logger
  readonly #passwordWork: PasswordWork

  private constructor (users: UserStore, dummyHash: string, options: AuthenticatorOptions) {
    this.#users = users
    this.#dummyHash = dummyHash
    this.#log = options.log ?? silentLogger
    this.#passwordWork = options.passwordWork ?? unbounded
  }

  static async create (users: UserStore, options: AuthenticatorOptions = {}): Promise<Authenticator> {
    return new Authenticator(users, await createDummyHash(), options)
  }

  /**
   * The user when the password is theirs. A failure says why, for the log only: the
   * HTTP answer and its timing are the same for an unknown user and a wrong password.
   * A disabled user is unknown here: the store does not give them. After a success,
   * a hash made with weaker parameters than the current ones is replaced.
   * Only the argon2 work runs in `passwordWork`: the store's calls wait outside it, so a
   * slow or hung store never keeps other logins from their password check.
   */
  async authenticate (username: string, password: string): Promise<AuthenticationResult> {
    const user = await this.#users.findByUsername(username)
    const matches = await this.#passwordWork.run(() => verifyPassword(user?.passwordHash ?? this.#dummyHash, password))
    if (user === undefined) return { ok: false, reason: 'unknown-user' }
    if (!matches) return { ok: false, reason: 'wrong-password', user }
    if (needsRehash(user.passwordHash)) await this.#rehash(user, password)
    return { ok: true, user }
  }

  /** Best effort: a store that fails to take the new hash does not fail the login. */
  async #rehash (user: User, password: string): Promise<void> {
    try {
      const stronger = await this.#passwordWork.run(() => hashPassword(password))
      const replaced = await this.#users.updatePasswordHash(user.username, { from: user.passwordHash, to: stronger })
      if (replaced) this.#log.info({ username: user.username }, 'password hash upgraded to the current argon2 parameters')
    } catch (err) {
      this.#log.warn({ username: user.username, reason: (err as Error).message }, 'could not upgrade the password hash; the login goes on')
    }
  }
}
