/** A user who may log in: the username is an email, the password kept as an argon2 hash. */
export interface User {
  username: string
  passwordHash: string
}

/** A user as an operator sees it: no hash, but its state and history. */
export interface UserSummary {
  username: string
  disabled: boolean
  createdAt: Date
  updatedAt: Date
}

/** A change of hash that applies only while the stored hash is still `from`. */
export interface PasswordHashUpdate {
  from: string
  to: string
}

/**
 * What the login path needs from the place users live. Usernames are compared without
 * regard to case (emails are) or surrounding whitespace; what is returned is a copy,
 * with the username as it was stored. A store whose server cannot be reached rejects
 * with StoreUnavailableError.
 */
export interface UserStore {
  /** The enabled user with this username; undefined when unknown or disabled, so a disabled user cannot log in. */
  findByUsername(username: string): Promise<User | undefined>

  /**
   * Replaces the hash of a user when it is still `update.from` (a rehash with stronger
   * parameters must not undo a password change made meanwhile). True when it replaced it.
   */
  updatePasswordHash(username: string, update: PasswordHashUpdate): Promise<boolean>
}

/**
 * The operations of the users command line. Each rejects with UnknownUserError for a
 * username it does not hold, and `add` with DuplicateUserError for one it does.
 */
export interface UserAdmin extends UserStore {
  /** Whether the store holds this username, enabled or not. */
  has(username: string): Promise<boolean>

  /** Adds an enabled user. */
  add(username: string, passwordHash: string): Promise<void>

  /** Sets the password of a user (enabled or not) and ends their sessions where the store can. Gives the username as stored. */
  setPassword(username: string, passwordHash: string): Promise<string>

  /** Disables (login refused, tokens revoked where the store can) or enables a user. Gives the username as stored. */
  setDisabled(username: string, disabled: boolean): Promise<string>

  /** Deletes a user (tokens revoked where the store can). Gives the username as it was stored. */
  remove(username: string): Promise<string>

  /** Every user, enabled or not, ordered by username. */
  list(): Promise<UserSummary[]>
}

export class UnknownUserError extends Error {
  override name = 'UnknownUserError'

  constructor (readonly username: string) {
    super(`No user ${username}`)
  }
}

export class DuplicateUserError extends Error {
  override name = 'DuplicateUserError'

  constructor (readonly username: string) {
    super(`A user ${username} exists already`)
  }
}

/** The longest username (an email): RFC 5321's longest address. */
export const MAX_USERNAME_LENGTH = 254

export function normalizeUsername (username: string): string {
  return username.trim().toLowerCase()
}

interface StoredUser extends UserSummary {
  passwordHash: string
}

/** Users in this process's memory: the demo user or those of USERS_FILE, lost on restart. */
export class MemoryUserStore implements UserAdmin {
  readonly #users = new Map<string, StoredUser>()

  constructor (users: readonly User[]) {
    for (const user of users) {
      const key = normalizeUsername(user.username)
      if (this.#users.has(key)) throw new Error(`duplicate username ${user.username}`)
      this.#users.set(key, newStoredUser(user.username, user.passwordHash))
    }
  }

  async findByUsername (username: string): Promise<User | undefined> {
    const user = this.#users.get(normalizeUsername(username))
    return user === undefined || user.disabled ? undefined : { username: user.username, passwordHash: user.passwordHash }
  }

  async updatePasswordHash (username: string, { from, to }: PasswordHashUpdate): Promise<boolean> {
    const user = this.#users.get(normalizeUsername(username))
    if (user === undefined || user.passwordHash !== from) return false
    user.passwordHash = to
    user.updatedAt = new Date()
    return true
  }

  async has (username: string): Promise<boolean> {
    return this.#users.has(normalizeUsername(username))
  }

  async add (username: string, passwordHash: string): Promise<void> {
    const key = normalizeUsername(username)
    if (this.#users.has(key)) throw new DuplicateUserError(username.trim())
    this.#users.set(key, newStoredUser(username, passwordHash))
  }

  async setPassword (username: string, passwordHash: string): Promise<string> {
    const user = this.#existing(username)
    user.passwordHash = passwordHash
    user.updatedAt = new Date()
    return user.username
  }

  async setDisabled (username: string, disabled: boolean): Promise<string> {
    const user = this.#existing(username)
    user.disabled = disabled
    user.updatedAt = new Date()
    return user.username
  }

  async remove (username: string): Promise<string> {
    const user = this.#existing(username)
    this.#users.delete(normalizeUsername(username))
    return user.username
  }

  async list (): Promise<UserSummary[]> {
    return [...this.#users.values()]
      .map(({ username, disabled, createdAt, updatedAt }) => ({ username, disabled, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) }))
      .sort((a, b) => compareUsernames(a.username, b.username))
  }

  #existing (username: string): StoredUser {
    const user = this.#users.get(normalizeUsername(username))
    if (user === undefined) throw new UnknownUserError(username.trim())
    return user
  }
}

function newStoredUser (username: string, passwordHash: string): StoredUser {
  const now = new Date()
  return { username: username.trim(), passwordHash, disabled: false, createdAt: now, updatedAt: new Date(now) }
}

function compareUsernames (a: string, b: string): number {
  const left = normalizeUsername(a)
  const right = normalizeUsername(b)
  return left < right ? -1 : left > right ? 1 : 0
}
