import { describe, expect, it, vi } from 'vitest'
import { SECURITY_SCHEMES } from '../../plugins/openapi.js'
import { buildTestApp, DEMO_PASSWORD, DEMO_USERNAME } from '../helpers/build-app.js'
import { listenOnFreePort } from '../helpers/http.js'

interface RecordedRoute {
  method: string | string[]
  url: string
  schema?: unknown
}

/**
 * Every route the app registers, as Fastify's onRoute hook sees it: Fastify is wrapped
 * so that the hook is in place before buildApp registers anything.
 */
const registered = vi.hoisted(() => [] as RecordedRoute[])

vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>()
  const fastify = ((options: Parameters<typeof actual.default>[0]) => {
    const app = actual.default(options)
    app.addHook('onRoute', ({ method, url, schema }) => { registered.push({ method, url, schema }) })
    return app
  }) as typeof actual.default
  return { ...actual, default: fastify }
})

interface Operation {
  tags?: string[]
  summary?: string
  security?: unknown
  parameters?: unknown[]
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string, content?: Record<string, { schema: unknown }> }>
}

interface OpenApiDocument {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown> }
}

interface RouteSchema {
  hide?: boolean
  tags?: string[]
  summary?: string
  security?: unknown
  body?: unknown
  response?: Record<string, unknown>
}

/** The routes of the contract that clients call (the original paths are rewrites of two of them). */
const CONTRACT_ROUTES = [
  'GET /health', 'GET /health/ready',
  'POST /auth/login', 'POST /auth/logout', 'POST /auth/logout-all', 'GET /auth/sessions', 'DELETE /auth/sessions/{id}',
  'GET /business/data'
]

/**
 * A schema as JSON, the way an OpenAPI 3.0 document carries it: no TypeBox symbols, no
 * $id, and `const` written as a one-value `enum` (3.0 has no `const`).
 */
function plain (schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value) => {
    if (key === '$id') return undefined
    if (value !== null && typeof value === 'object' && 'const' in value) {
      const { const: only, ...rest } = value as Record<string, unknown>
      return { ...rest, enum: [only] }
    }
    return value
  })
}

function openApiPath (url: string): string {
  return url.replace(/:(\w+)/g, '{$1}')
}

/** Method and route of each registered route, without the HEAD routes Fastify adds to each GET. */
function operations (routes: RecordedRoute[]): Array<{ key: string, route: RecordedRoute, method: string }> {
  return routes.flatMap((route) => [route.method].flat()
    .filter((method) => method !== 'HEAD')
    .map((method) => ({ key: `${method} ${route.url}`, route, method })))
}

async function documentedApp () {
  registered.length = 0
  const { app } = await buildTestApp()
  const response = await app.inject({ method: 'GET', url: '/docs/json' })
  expect(response.statusCode).toBe(200)
  return { app, document: response.json<OpenApiDocument>(), routes: [...registered] }
}

describe('the OpenAPI document', () => {
  it('is an OpenAPI 3 document, the one @fastify/swagger builds', async () => {
    const { app, document } = await documentedApp()
    expect(document.openapi).toMatch(/^3\./)
    expect(document.info.title).toBe('Token authentication service')
    expect(document).toEqual(JSON.parse(JSON.stringify(app.swagger())))
  })

  it('lists exactly the registered routes that are not hidden, the contract\'s among them', async () => {
    const { document, routes } = await documentedApp()
    const isPublic = (route: RecordedRoute) => (route.schema as RouteSchema | undefined)?.hide !== true
    const expected = operations(routes.filter(isPublic)).map(({ key }) => key)
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))

    expect(documented.sort()).toEqual(expected.map((key) => openApiPath(key)).sort())
    expect(documented).toEqual(expect.arrayContaining(CONTRACT_ROUTES))
  })

  it('leaves out the internal /auth/validateToken and the docs\' own routes', async () => {
    const { document, routes } = await documentedApp()
    expect(routes.some((route) => route.url === '/auth/validateToken')).toBe(true)
    expect(Object.keys(document.paths)).not.toContain('/auth/validateToken')
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs'))).toEqual([])
  })

  it('carries each route\'s tags, summary, security, request body and responses from its schema', async () => {
    const { document, routes } = await documentedApp()
    const documented = operations(routes).filter(({ route }) => (route.schema as RouteSchema | undefined)?.hide !== true)
    expect(documented.length).toBeGreaterThanOrEqual(CONTRACT_ROUTES.length)

    for (const { route, method } of documented) {
      const schema = (route.schema ?? {}) as RouteSchema
      const operation = document.paths[openApiPath(route.url)]?.[method.toLowerCase()]
      const where = `${method} ${route.url}`
      expect(operation, where).toBeDefined()
      if (operation === undefined) continue

      expect(operation.tags, where).toEqual(schema.tags)
      expect(operation.summary, where).toBe(schema.summary)
      expect(operation.security, where).toEqual(schema.security)
      if (schema.body === undefined) {
        expect(operation.requestBody, where).toBeUndefined()
      } else {
        expect(operation.requestBody?.content['application/json']?.schema, where).toEqual(plain(schema.body))
      }

      if (schema.response === undefined) {
        // A route without response schemas gets @fastify/swagger's default answer.
        expect(Object.keys(operation.responses), where).toEqual(['200'])
        continue
      }
      const responses = schema.response
      expect(Object.keys(operation.responses).sort(), where).toEqual(Object.keys(responses).sort())
      for (const [status, responseSchema] of Object.entries(responses)) {
        const documentedResponse = operation.responses[status]
        if ((responseSchema as { type?: string }).type === 'null') {
          expect(documentedResponse?.content, `${where} ${status}`).toBeUndefined()
        } else {
          expect(documentedResponse?.content?.['application/json']?.schema, `${where} ${status}`).toEqual(plain(responseSchema))
        }
      }
    }
  })

  it('declares the bearer scheme and the token header, and the routes that take a token name both', async () => {
    const { document } = await documentedApp()
    expect(document.components.securitySchemes).toEqual(SECURITY_SCHEMES)
    expect(document.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      tokenHeader: { type: 'apiKey', in: 'header', name: 'token' }
    })
    const either = [{ bearer: [] }, { tokenHeader: [] }]
    expect(document.paths['/business/data']?.get?.security).toEqual(either)
    expect(document.paths['/auth/logout']?.post?.security).toEqual(either)
    expect(document.paths['/auth/logout-all']?.post?.security).toEqual(either)
    expect(document.paths['/auth/sessions']?.get?.security).toEqual(either)
    expect(document.paths['/auth/sessions/{id}']?.delete?.security).toEqual(either)
    expect(document.paths['/auth/login']?.post?.security).toBeUndefined()
  })
})

describe('the OpenAPI document, as Swagger UI shows it', () => {
  it('names every response of every route, never "Default Response"', async () => {
    const { app } = await buildTestApp({ config: { FORWARD_AUTH: true, METRICS: true } })
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>()
    const descriptions = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).flatMap(([method, operation]) =>
      Object.entries(operation.responses).map(([status, response]) => ({ where: `${method.toUpperCase()} ${path} ${status}`, description: response.description }))))

    expect(descriptions.length).toBeGreaterThan(20)
    for (const { where, description } of descriptions) {
      expect(description, where).not.toBe('Default Response')
      expect(description, where).not.toBe('')
    }
    expect(document.paths['/auth/login']?.post?.responses['200']?.description).toBe('Token issued')
  })

  it('fills the login example with the demo user, whose credentials log in as they are', async () => {
    const { app } = await buildTestApp()
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>()
    const schema = document.paths['/auth/login']?.post?.requestBody?.content['application/json']?.schema as
      { properties: Record<string, { example?: unknown }> }

    const example = Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, property.example]))
    expect(example).toEqual({ username: DEMO_USERNAME, password: DEMO_PASSWORD })
    expect((await app.inject({ method: 'POST', url: '/auth/login', payload: example })).statusCode).toBe(200)
  })
})

describe('GET /docs', () => {
  it('serves Swagger UI, and the document at /docs/json, over the network; the internal route stays a 404', async () => {
    const { app } = await buildTestApp()
    const baseUrl = await listenOnFreePort(app)

    const page = await fetch(`${baseUrl}/docs`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toContain('swagger-ui')
    // Its own policy: its scripts and styles load, over plain http too.
    const policy = page.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("script-src 'self'")
    expect(policy).not.toContain('upgrade-insecure-requests')

    const json = await fetch(`${baseUrl}/docs/json`)
    expect(json.status).toBe(200)
    expect(((await json.json()) as OpenApiDocument).paths['/business/data']).toBeDefined()

    const internal = await fetch(`${baseUrl}/auth/validateToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'anything' })
    })
    expect(internal.status).toBe(404)
  })
})
