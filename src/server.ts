import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

/**
 * The process entry: the configuration from the environment (and .env), validated once,
 * here, since Fastify's own options (logger, trustProxy, TLS) need it; then listen.
 */
try {
  const config = loadConfig(process.env, { dotenv: true })
  const app = await buildApp({ config })
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
    else app.log.info({ signal }, 'closing')
    await app.close()
  })
  await app.listen({ host: config.HOST, port: config.PORT })
} catch (err) {
  // One line a person can act on, not a stack trace.
  console.error(`Cannot start: ${(err as Error).message}`)
  process.exit(1)
}
