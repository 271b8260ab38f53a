/** A user who may log in: the username is an email, the password kept as an argon2 hash. */
export interface User {
  username: string
  passwordHash: string
}

/** Where users come from. The in-memory store is the only one for now. */
export interface UserStore {
  /** The user with this username, compared without regard to case (emails are). */
  findByUsername(username: string): Promise<User | undefined>
}

export function normalizeUsername (username: string): string {
  return username.trim().toLowerCase()
}

export class MemoryUserStore implements UserStore {
  readonly #users = new Map<string, User>()

  constructor (users: readonly User[]) {
    for (const user of users) {
      const key = normalizeUsername(user.username)
      if (this.#users.has(key)) throw new Error(`duplicate username ${user.username}`)
      this.#users.set(key, { ...user })
    }
  }

  async findByUsername (username: string): Promise<User | undefined> {
    const user = this.#users.get(normalizeUsername(username))
    return user === undefined ? undefined : { ...user }
  }
}
