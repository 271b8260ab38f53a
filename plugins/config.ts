import fastifyEnv from '@fastify/env'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { ConfigSchema, type Config } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export interface ConfigPluginOptions {
  /** The configuration buildApp resolved; @fastify/env checks it against the same schema. */
  config: Config
}

/**
 * Decorates `fastify.config` through @fastify/env.
 * @see {@link https://github.com/fastify/fastify-env}
 */
const configPlugin: FastifyPluginAsync<ConfigPluginOptions> = async (fastify, { config }) => {
  await fastify.register(fastifyEnv, {
    confKey: 'config',
    schema: structuredClone(ConfigSchema),
    data: config,
    env: false
  })
}

export default fp(configPlugin, { name: 'config' })
