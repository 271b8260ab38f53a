import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface ConfigPluginOptions {
  /** The configuration loadConfig validated, once, before Fastify was constructed. */
  config: Config
}

/**
 * Decorates `fastify.config` for every plugin. No validation here: the server's own
 * options (logger, trustProxy, TLS) need the configuration before Fastify exists, so
 * src/server.ts validates it then, and this plugin only shares the result.
 */
const configPlugin: FastifyPluginAsync<ConfigPluginOptions> = async (fastify, { config }) => {
  fastify.decorate<Config>('config', config)
}

export default fp(configPlugin, { name: 'config' })
