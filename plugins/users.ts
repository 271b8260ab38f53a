import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Authenticator } from '../src/users/authenticator.js'
import { MemoryUserStore } from '../src/users/user-store.js'
import { demoUsers, loadUsersFile } from '../src/users/users-file.js'

declare module 'fastify' {
  interface FastifyInstance {
    authenticator: Authenticator
  }
}

/**
 * Decorates `fastify.authenticator` over the users of USERS_FILE, or the demo user
 * when it is unset. A malformed file stops the start with a message naming it.
 */
const users: FastifyPluginAsync = async (fastify) => {
  const path = fastify.config.USERS_FILE
  const store = new MemoryUserStore(path === undefined ? await demoUsers() : await loadUsersFile(path))
  fastify.decorate('authenticator', await Authenticator.create(store))
}

export default fp(users, { name: 'users', dependencies: ['config'] })
