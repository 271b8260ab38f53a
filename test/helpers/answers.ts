import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'

/** Fastify's error shape, as JSON: statusCode, error, message (and Fastify's optional code), nothing else. */
export function expectErrorShape (response: LightMyRequestResponse, statusCode: number): Record<string, unknown> {
  expect(response.statusCode).toBe(statusCode)
  expect(response.headers['content-type']).toMatch(/^application\/json/)
  const body = response.json<Record<string, unknown>>()
  expect(body).toEqual(expect.objectContaining({
    statusCode,
    error: expect.any(String),
    message: expect.any(String)
  }))
  for (const key of Object.keys(body)) expect(['statusCode', 'code', 'error', 'message']).toContain(key)
  return body
}

/** An RFC 6750 challenge: the error shape, with `challenge` as the WWW-Authenticate header. */
export function expectChallenge (response: LightMyRequestResponse, statusCode: number, challenge: string): void {
  expectErrorShape(response, statusCode)
  expect(response.headers['www-authenticate']).toBe(challenge)
}
