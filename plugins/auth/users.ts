import type { FastifyInstance } from 'fastify'
import { ConcurrencyLimiter } from '../../src/concurrency-limiter.js'
import { StoreUnavailableError } from '../../src/store-unavailable-error.js'
import type { TokenStore } from '../../src/tokens/token-store.js'
import { Authenticator } from '../../src/users/authenticator.js'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { RevocationListener } from '../../src/users/revocation-listener.js'
import { MemoryUserStore, type UserStore } from '../../src/users/user-store.js'
import { DEMO_PASSWORD, DEMO_USERNAME, demoUsers, loadUsersFile } from '../../src/users/users-file.js'

/**
 * The authenticator over the store USER_STORE names: in memory, the users of USERS_FILE
 * (a malformed file stops the start with a message naming it) or the demo user; or
 * PostgreSQL at DATABASE_URL, whose disabled and removed users lose their sessions in
 * `tokenStore`. At most HASH_CONCURRENCY password checks run at once, HASH_QUEUE_LIMIT
 * wait, and beyond, login answers 503.
 */
export async function openAuthenticator (fastify: FastifyInstance, tokenStore: TokenStore): Promise<Authenticator> {
  const { config } = fastify
  if (config.USER_STORE === 'postgres' && config.USERS_FILE !== undefined) {
    fastify.log.warn('USERS_FILE is ignored: USER_STORE=postgres takes the users from PostgreSQL')
  }
  const store = config.USER_STORE === 'postgres'
    ? await usePostgres(fastify, config.DATABASE_URL, tokenStore)
    : await useMemory(config.USERS_FILE)
  // Password verification is argon2 work in libuv's pool: bounded, so a flood gets 503s, not a growing wait.
  const passwordWork = new ConcurrencyLimiter(config.HASH_CONCURRENCY, config.HASH_QUEUE_LIMIT)
  const authenticator = await Authenticator.create(store, { log: fastify.log, passwordWork })
  warnWhileTheDemoUserLogsIn(fastify, authenticator)
  return authenticator
}

/**
 * A newcomer's first server, or a demo left running: say so at start while the demo user
 * can log in, whichever store holds it. A store that cannot answer yet is no demo to warn of.
 */
function warnWhileTheDemoUserLogsIn (fastify: FastifyInstance, authenticator: Authenticator): void {
  fastify.addHook('onListen', async () => {
    const demo = await authenticator.authenticate(DEMO_USERNAME, DEMO_PASSWORD).catch(() => undefined)
    if (demo?.ok !== true) return fastify.log.debug('no demo user: the demo credentials do not log in')
    fastify.log.warn({ username: DEMO_USERNAME }, `The demo user ${DEMO_USERNAME} can log in, with the password the README gives: ` +
      'fine for a demo, never where others can reach this server (README, "Users")')
  })
}

async function useMemory (usersFile: string | undefined): Promise<UserStore> {
  return new MemoryUserStore(usersFile === undefined ? await demoUsers() : await loadUsersFile(usersFile))
}

/**
 * The PostgreSQL store, migrated at start, with a listener that revokes the sessions of
 * the users that the command line (or anyone, in SQL) disables or removes. PostgreSQL
 * being down at start stops nothing: the failure is logged, readiness and login answer
 * 503, and the listener retries with backoff; once it connects, it migrates and serves.
 */
async function usePostgres (fastify: FastifyInstance, connectionString: string, tokenStore: TokenStore): Promise<UserStore> {
  const store = new PostgresUserStore({ connectionString, log: fastify.log })
  const listener = new RevocationListener({
    connectionString,
    log: fastify.log,
    onRevoked: async (username) => {
      const revoked = await tokenStore.revokeAllForUser(username)
      fastify.log.info({ username, revoked }, 'user disabled, removed or reset: tokens revoked')
    },
    // Notifications sent while disconnected are lost; a disabled user's sessions are revoked again.
    onListening: async () => {
      for (const username of await store.disabledUsernames()) await tokenStore.revokeAllForUser(username)
    }
  })

  fastify.readinessChecks.set('user-store', async () => {
    await store.ping()
    if (!listener.listening) {
      listener.reconnectNow()
      throw new StoreUnavailableError('not listening for disabled users yet')
    }
  })
  fastify.addHook('onClose', async () => {
    await listener.close()
    await store.close()
  })

  try {
    await store.migrate()
  } catch (err) {
    // A migration that PostgreSQL refuses (a fault, not an outage) stops the start.
    if (!(err instanceof StoreUnavailableError)) throw err
    fastify.log.error({ store: 'postgres', reason: err.message }, 'PostgreSQL unavailable at start; serving 503 until it is back')
  }
  await listener.start()
  return store
}
