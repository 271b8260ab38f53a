import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { createTokenStore } from '../src/tokens/create-token-store.js'
import type { TokenStore } from '../src/tokens/token-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokenStore: TokenStore
  }
}

export interface TokenStorePluginOptions {
  /** A ready store to use instead of the one TOKEN_STORE names (tests, embedding). */
  store?: TokenStore
}

/**
 * Decorates `fastify.tokenStore` (the store TOKEN_STORE names), adds it to the
 * readiness checks, makes it the source of the tokens gauge and closes it with the server.
 */
const tokenStorePlugin: FastifyPluginAsync<TokenStorePluginOptions> = async (fastify, options) => {
  const store = options.store ?? createTokenStore(fastify.config, fastify.redis, fastify.log)
  fastify.decorate('tokenStore', store)
  fastify.readinessChecks.set('token-store', () => store.ping())
  fastify.metrics.setTokenCount(() => store.size())
  fastify.addHook('onClose', async () => { await store.close() })
}

export default fp(tokenStorePlugin, { name: 'token-store', dependencies: ['config', 'health', 'metrics', 'redis'] })
