import { createDummyHash, verifyPassword } from './password.js'
import type { User, UserStore } from './user-store.js'

export type AuthenticationResult =
  | { ok: true, user: User }
  | { ok: false, reason: 'unknown-user' }
  | { ok: false, reason: 'wrong-password', user: User }

/** Checks a username and password against a user store, at the same cost whether the user exists or not. */
export class Authenticator {
  readonly #users: UserStore
  readonly #dummyHash: string

  private constructor (users: UserStore, dummyHash: string) {
    this.#users = users
    this.#dummyHash = dummyHash
  }

  static async create (users: UserStore): Promise<Authenticator> {
    return new Authenticator(users, await createDummyHash())
  }

  /**
   * The user when the password is theirs. A failure says why, for the log only: the
   * HTTP answer and its timing are the same for an unknown user and a wrong password.
   */
  async authenticate (username: string, password: string): Promise<AuthenticationResult> {
    const user = await this.#users.findByUsername(username)
    const matches = await verifyPassword(user?.passwordHash ?? this.#dummyHash, password)
    if (user === undefined) return { ok: false, reason: 'unknown-user' }
    return matches ? { ok: true, user } : { ok: false, reason: 'wrong-password', user }
  }
}
