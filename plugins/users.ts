import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { ConcurrencyLimiter } from '../src/concurrency-limiter.js'
import { StoreUnavailableError } from '../src/store-unavailable-error.js'
import { Authenticator } from '../src/users/authenticator.js'
import { PostgresUserStore } from '../src/users/postgres-user-store.js'
import { RevocationListener } from '../src/users/revocation-listener.js'
import { MemoryUserStore, type UserStore } from '../src/users/user-store.js'
import { demoUsers, loadUsersFile } from '../src/users/users-file.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticator: Authenticator
  }
}

/**
 * Decorates `fastify.authenticator` over the store USER_STORE names: in memory, the
 * users of USERS_FILE (a malformed file stops the start with a message naming it) or
 * the demo user; or PostgreSQL at DATABASE_URL. At most HASH_CONCURRENCY password
 * checks run at once, HASH_QUEUE_LIMIT wait, and beyond, login answers 503.
 */
const users: FastifyPluginAsync = async (fastify) => {
  if (fastify.config.USER_STORE === 'postgres' && fastify.config.USERS_FILE !== undefined) {
    fastify.log.warn('USERS_FILE is ignored: USER_STORE=postgres takes the users from PostgreSQL')
  }
  const store = fastify.config.USER_STORE === 'postgres'
    ? await usePostgres(fastify, fastify.config.DATABASE_URL!)
    : await useMemory(fastify.config.USERS_FILE)
  // Password verification is argon2 work in libuv's pool: bounded, so a flood gets 503s, not a growing wait.
  const passwordWork = new ConcurrencyLimiter(fastify.config.HASH_CONCURRENCY, fastify.config.HASH_QUEUE_LIMIT)
  fastify.decorate('authenticator', await Authenticator.create(store, { log: fastify.log, passwordWork }))
}

async function useMemory (usersFile: string | undefined): Promise<UserStore> {
  return new MemoryUserStore(usersFile === undefined ? await demoUsers() : await loadUsersFile(usersFile))
}

/**
 * The PostgreSQL store, migrated at start, with a listener that revokes the tokens of
 * the users that the command line (or anyone, in SQL) disables or removes. PostgreSQL
 * being down at start stops nothing: the failure is logged, readiness and login answer
 * 503, and the listener retries with backoff; once it connects, it migrates and serves.
 */
async function usePostgres (fastify: FastifyInstance, connectionString: string): Promise<UserStore> {
  const store = new PostgresUserStore({ connectionString, log: fastify.log })
  const revokeTokens = async (username: string): Promise<number> => await fastify.tokenStore.revokeAllForUser(username)
  const listener = new RevocationListener({
    connectionString,
    log: fastify.log,
    onRevoked: async (username) => {
      const revoked = await revokeTokens(username)
      fastify.log.info({ username, revoked }, 'user disabled, removed or reset: tokens revoked')
    },
    // Notifications sent while disconnected are lost; a disabled user's tokens are revoked again.
    onListening: async () => {
      for (const username of await store.disabledUsernames()) await revokeTokens(username)
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

export default fp(users, { name: 'users', dependencies: ['config', 'health', 'token-store'] })
