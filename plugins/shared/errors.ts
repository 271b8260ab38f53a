import { STATUS_CODES } from 'node:http'
import type { FastifyReply } from 'fastify'
import { Type, type Static } from 'typebox'

/** Fastify's error shape, which every error answer of the service has. */
export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.Optional(Type.String()),
  error: Type.String(),
  message: Type.String()
}, { $id: 'Error', description: 'An error, in Fastify\'s shape' })

export type ErrorBody = Static<typeof ErrorSchema>

/**
 * ErrorSchema as the answer of one status of one route: its description names that answer
 * in the OpenAPI document, where Swagger UI would otherwise show "Default Response".
 */
export function errorResponse (description: string) {
  return Type.Object(ErrorSchema.properties, { description })
}

export function errorBody (statusCode: number, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/** Sends an error answer in Fastify's shape. */
export function sendError (reply: FastifyReply, statusCode: number, message: string): FastifyReply {
  return reply.code(statusCode).send(errorBody(statusCode, message))
}
