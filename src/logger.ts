/**
 * The part of a pino logger that the domain writes to (a Fastify logger is one), so
 * that src/ does not depend on Fastify.
 */
export interface Logger {
  debug(details: object, message: string): void
  info(details: object, message: string): void
  warn(details: object, message: string): void
}

/** For a caller that gives no logger. */
export const silentLogger: Logger = { debug () {}, info () {}, warn () {} }
