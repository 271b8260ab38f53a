import type { FastifyInstance } from 'fastify'

/** Closes the app and exits on SIGTERM or SIGINT, as the benchmark stops its servers (and --cpu-prof writes its profile). */
export function closeOnSignal (app: FastifyInstance): void {
  const close = () => { app.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGTERM', close)
  process.once('SIGINT', close)
}
