import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigSchema } from '../../src/config.js'
import { buildTestApp } from '../helpers/build-app.js'
import { PROJECT_ROOT } from '../helpers/server-process.js'

/*
 * docs/CONTRACT.md is the contract users of the service read; these tests hold its route
 * table to the OpenAPI document the routes' schemas build, and its settings table to
 * ConfigSchema, each in both directions.
 */

const CONTRACT = readFileSync(join(PROJECT_ROOT, 'docs/CONTRACT.md'), 'utf8')

/** The body rows of the first table after `heading`, as trimmed cells, code spans unwrapped. */
function tableAfter (heading: string): string[][] {
  const lines = CONTRACT.split('\n')
  const start = lines.indexOf(heading)
  expect(start, `${heading} in docs/CONTRACT.md`).toBeGreaterThan(-1)
  const table: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) table.push(line)
    else if (table.length > 0) break
  }
  // The header and the |---| line go; each row's cells, between its outer pipes.
  return table.slice(2).map((row) => row.slice(1, -1).split('|').map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')))
}

/** "POST /auth/login 200", for each status of each route of the contract's table (a blank route cell continues the one above). */
function contractAnswers (): string[] {
  let route = ''
  return tableAfter('### Public routes').map(([routeCell, status]) => {
    if (routeCell !== '') route = routeCell!
    expect(route, 'a route in the first row').toMatch(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/)
    expect(status, route).toMatch(/^[1-5][0-9]{2}$/)
    return `${route} ${status}`
  })
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
}

/** The same, from the OpenAPI document of an app with every optional route turned on. */
async function documentedAnswers (): Promise<string[]> {
  const { app } = await buildTestApp({ config: { FORWARD_AUTH: 'true', METRICS: 'true' } })
  const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>()
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) =>
      Object.keys(operation.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)))
}

describe('docs/CONTRACT.md', () => {
  it('lists every public route and every status its schema declares, and nothing else', async () => {
    const contract = contractAnswers()
    expect(contract.length).toBeGreaterThan(20)
    expect(new Set(contract).size, 'a route and status listed twice').toBe(contract.length)
    expect(contract.sort()).toEqual((await documentedAnswers()).sort())
  })

  it('lists every setting of ConfigSchema with its default, and no other', () => {
    const contract = Object.fromEntries(tableAfter('## Settings').map(([variable, defaultValue]) => [variable, defaultValue]))
    const schema = Object.fromEntries(Object.entries(ConfigSchema.properties as Record<string, { default?: unknown }>)
      .map(([variable, property]) => [variable, property.default === undefined ? '' : String(property.default)]))
    expect(Object.keys(contract).length).toBeGreaterThan(10)
    expect(contract).toEqual(schema)
  })
})
