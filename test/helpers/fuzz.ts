import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import fc from 'fast-check'

/** One HTTP request exactly as the fuzzer builds it: nothing is added but Host (unless given), Content-Length and Connection. */
export interface RawRequest {
  method: string
  path: string
  /** Name/value pairs, in order, duplicates allowed (as rawHeaders has them). */
  headers: Array<[string, string]>
  body?: Buffer
}

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export type SendOutcome =
  | { kind: 'response', response: RawResponse }
  /** Node's client would not send it (ERR_INVALID_CHAR, ERR_UNESCAPED_CHARACTERS...): not a request at all. */
  | { kind: 'refused-by-client', code: string }
  /** The request left, but the connection failed before a complete answer; `status` if a status line came. */
  | { kind: 'connection-error', code: string, status?: number }

/** Codes of Node's client refusing a request before it leaves, which say nothing of the server. */
const CLIENT_REFUSALS = new Set(['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_UNESCAPED_CHARACTERS', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_INVALID_ARG_VALUE'])

/**
 * Sends `raw` with node:http on a connection of its own (no agent, `Connection: close`),
 * so that nothing of one request leaks into the next, and waits at most `timeoutMs`.
 */
export function sendRaw (baseUrl: string, raw: RawRequest, timeoutMs = 5000): Promise<SendOutcome> {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve) => {
    let status: number | undefined
    let settled = false
    const settle = (outcome: SendOutcome) => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    let req: ReturnType<typeof httpRequest>
    try {
      req = httpRequest({
        hostname,
        port,
        method: raw.method,
        path: raw.path,
        agent: false,
        // Content-Length always with a body: for GET, HEAD, DELETE... Node's client would otherwise send
        // the bytes unframed, and the server would rightly read them as a second request.
        // Headers as an array are sent as they are: Node adds no Host then, so add it unless the fuzzer chose one.
        headers: [
          ...(raw.headers.some(([name]) => name.toLowerCase() === 'host') ? [] : ['host', `${hostname}:${port}`]),
          ...raw.headers.flat(),
          ...(raw.body === undefined ? [] : ['content-length', String(raw.body.length)]),
          'connection', 'close'
        ],
        // Node's client checks the header total against its own maxHeaderSize; allow what we send.
        maxHeaderSize: 64 * 1024
      })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'UNKNOWN'
      if (CLIENT_REFUSALS.has(code)) return settle({ kind: 'refused-by-client', code })
      throw err
    }
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'UNKNOWN'
      if (CLIENT_REFUSALS.has(code)) settle({ kind: 'refused-by-client', code })
      else settle({ kind: 'connection-error', code, status })
    })
    req.on('response', (response) => {
      status = response.statusCode
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'connection-error', code: err.code ?? 'UNKNOWN', status }))
      response.on('aborted', () => settle({ kind: 'connection-error', code: 'ABORTED', status }))
      response.on('end', () => settle({
        kind: 'response',
        response: { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }
      }))
    })
    if (raw.body === undefined) req.end()
    else req.end(raw.body)
  })
}

/** How a request shows in a counterexample: short, and readable. */
export function describeRequest (raw: RawRequest): string {
  const cut = (text: string, max = 120) => text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text
  const headers = raw.headers.map(([name, value]) => `${cut(name, 40)}: ${cut(value, 60)}`).join('; ')
  const body = raw.body === undefined ? '' : ` body=${JSON.stringify(cut(raw.body.toString('latin1'), 80))}`
  return `${raw.method} ${cut(raw.path)} [${headers}]${body}`
}

// ---------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------

/** The characters of an HTTP token (RFC 9110 tchar): header names and methods. */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('')
const tchar = fc.constantFrom(...TCHARS)
export const httpToken = (maxLength = 20) => fc.string({ unit: tchar, minLength: 1, maxLength })

/** What Node's client accepts in a header value: tab, visible ASCII, space, and obs-text (0x80-0xff). */
const headerValueChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) }
).map((code) => String.fromCharCode(code))
export const headerValue = (maxLength = 80) => fc.string({ unit: headerValueChar, maxLength })

/** What Node's client accepts, unescaped, in a request target: 0x21-0xff. */
const pathChar = fc.integer({ min: 0x21, max: 0xff }).map((code) => String.fromCharCode(code))

export const METHODS = [
  'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'PURGE', 'QUERY',
  'get', 'Post', 'BREW', 'FOO'
] as const

export const method = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 5, arbitrary: fc.constantFrom(...METHODS) },
  { weight: 1, arbitrary: httpToken(12) }
)

/** A path built from known routes: exact, a prefix, with suffixes, odd slashes, dots, case, encodings, queries. */
export function pathAround (routes: readonly string[]) {
  const route = fc.constantFrom(...routes)
  const prefix = route.chain((r) => fc.integer({ min: 1, max: r.length }).map((n) => r.slice(0, n)))
  const suffix = fc.constantFrom(
    '', '/', '//', '/.', '/..', '/../..', '?', '?x=1', '?token=abc&authorization=Bearer%20x', '#frag', '%00', '%2F',
    '%2e%2e', ';jsessionid=1', '/%2e%2e/%2e%2e/etc/passwd', '?' + 'q'.repeat(500), '\\', '~', '*', '%', '%zz', '%ff%fe'
  )
  const mangle = fc.constantFrom(
    (p: string) => p,
    (p: string) => p.toUpperCase(),
    (p: string) => p.replaceAll('/', '//'),
    (p: string) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
    (p: string) => p.replace(/(?!^)\//g, '%2F'),
    (p: string) => `/.${p}`,
    (p: string) => `/x/..${p}`,
    (p: string) => `${p}/`
  )
  return fc.tuple(fc.oneof(route, prefix), mangle, suffix).map(([base, transform, tail]) => transform(base) + tail)
}

export const randomPath = fc.oneof(
  fc.webPath().map((p) => p === '' ? '/' : p),
  fc.string({ unit: pathChar, maxLength: 60 }).map((p) => `/${p}`),
  fc.string({ unit: pathChar, maxLength: 60 }),
  fc.constantFrom('*', '/', '//', 'http://127.0.0.1/health', 'health', '/%', '/%%32%65', '/..', '/\u00ff\u00fe'),
  // Long targets: beyond Node's 16 KiB header limit too (431).
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `/${'a'.repeat(n)}`),
  fc.integer({ min: 100, max: 3000 }).map((n) => `/business/data?${'x=1&'.repeat(n)}`)
)

/** Values for the token-carrying headers: noise, almost-right shapes, and (when given) real tokens. */
export function credentialValue (knownTokens: readonly string[]) {
  const tokenShaped = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split('')), minLength: 32, maxLength: 32 })
  const someToken = knownTokens.length === 0 ? tokenShaped : fc.oneof(tokenShaped, fc.constantFrom(...knownTokens))
  return fc.oneof(
    { weight: 2, arbitrary: headerValue(60) },
    { weight: 2, arbitrary: someToken },
    { weight: 4, arbitrary: someToken.map((t) => `Bearer ${t}`) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', 'Bearer  ', 'Bearer\t', ''), headerValue(40))
        .map(([scheme, rest]) => `${scheme} ${rest}`)
    },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Bearer null', 'Bearer undefined', 'Bearer [object Object]', '', ' ', 'null') },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => `Bearer ${'A'.repeat(n)}`) }
  )
}

export const contentType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'APPLICATION/JSON',
    'application/json;', 'application/json; charset="utf-8"', 'application/vnd.api+json', 'application/problem+json',
    'text/plain', 'text/plain; charset=utf-8', 'text/html', 'application/x-www-form-urlencoded',
    'multipart/form-data', 'multipart/form-data; boundary=----x', 'multipart/form-data; boundary=',
    'application/octet-stream', '*/*', 'application/*', 'json', '', ' ', ';', 'application/json, text/plain'
  ),
  fc.tuple(httpToken(10), httpToken(10)).map(([type, subtype]) => `${type}/${subtype}`),
  headerValue(40)
)

export interface Credentials { username: string, password: string }

/**
 * Bodies: JSON of every shape (login-like included, sometimes with real credentials),
 * text, bytes, multipart garbage, and sizes past the 16 KiB limit.
 */
export function body (knownTokens: readonly string[], knownCredentials: readonly Credentials[] = []) {
  const text = (s: string) => Buffer.from(s, 'utf8')
  const fields = fc.record({
    username: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 300 }), fc.constant(''), fc.jsonValue({ maxDepth: 1 })),
    password: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(''), fc.string({ minLength: 1020, maxLength: 1100 }), fc.jsonValue({ maxDepth: 1 }))
  }, { requiredKeys: [] })
  const loginish = knownCredentials.length === 0 ? fields : fc.oneof({ weight: 3, arbitrary: fields }, { weight: 1, arbitrary: fc.constantFrom(...knownCredentials) })
  const tokenBody = fc.record({
    token: knownTokens.length === 0 ? fc.string() : fc.oneof(fc.string(), fc.constantFrom(...knownTokens))
  })
  return fc.oneof(
    { weight: 3, arbitrary: loginish.map((value) => text(JSON.stringify(value))) },
    { weight: 1, arbitrary: tokenBody.map((value) => text(JSON.stringify(value))) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map(text) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map(text) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"__proto__":{"admin":true},"username":"a@b.c","password":"x"}',
        '{"constructor":{"prototype":{"admin":true}}}',
        '{"username":"jsf.fusco@gmail.com","password":"postman"',
        '{"username":"jsf.fusco@gmail.com","username":"x","password":"y"}',
        '['.repeat(5000) + ']'.repeat(5000),
        '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
        '1e99999', '-0', 'null', 'true', '""', '[]', '{}', '\uFEFF{}', '\u0000',
        'username=jsf.fusco%40gmail.com&password=postman',
        '------x\r\nContent-Disposition: form-data; name="username"\r\n\r\nx\r\n------x--\r\n',
        '--\r\n\r\n--garbage'
      ).map(text)
    },
    { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 40_000 }).map((n) => text(JSON.stringify({ username: 'a@b.c', password: 'p'.repeat(n) }))) }
  )
}

/** Random extra headers, and headers that matter to a server: framing aside (Node's client sets those). */
export const extraHeader = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(httpToken(30), headerValue(60)) },
  {
    weight: 5,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'accept', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
        'x-real-ip', 'forwarded', 'origin', 'referer', 'user-agent', 'cookie', 'if-none-match', 'if-modified-since',
        'range', 'x-http-method-override', 'x-request-id', 'host', 'upgrade', 'te', 'via', 'content-encoding', 'access-control-request-method'
      ),
      headerValue(60)
    )
  },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n): [string, string] => [`x-big-${n}`, 'v'.repeat(n)]) }
)

/** A route of the app: the fuzzer aims at these, then strays from them. */
export interface Endpoint { method: string, path: string }

export interface FuzzTargets {
  /** The app's routes and their methods. */
  endpoints: readonly Endpoint[]
  /** Valid tokens the fuzzer may present (and so revoke): never a token the test needs afterwards. */
  tokens?: readonly string[]
  /** Real credentials the fuzzer may log in with. */
  credentials?: readonly Credentials[]
}

export function rawRequest ({ endpoints, tokens: knownTokens = [], credentials: knownCredentials = [] }: FuzzTargets): fc.Arbitrary<RawRequest> {
  const paths = endpoints.map((endpoint) => endpoint.path)
  // A query may carry what a client should never put there: tokens included (logs must not show them).
  const query = fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.constantFrom('?', '?x=1', '?x[]=1&x[]=2', '?__proto__[a]=1', '?a=%zz', '?token=&token=') },
    { weight: 1, arbitrary: (knownTokens.length === 0 ? fc.string() : fc.constantFrom(...knownTokens)).map((t) => `?token=${encodeURIComponent(t)}&access_token=${encodeURIComponent(t)}`) }
  )
  const target = fc.oneof(
    // The route as it is, with its own method and maybe a query: the handlers themselves get the garbage.
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(...endpoints), query)
        .map(([endpoint, q]) => ({ method: endpoint.method, path: endpoint.path + q }))
    },
    { weight: 2, arbitrary: fc.record({ method, path: fc.constantFrom(...paths) }) },
    { weight: 3, arbitrary: fc.record({ method, path: pathAround(paths) }) },
    { weight: 1, arbitrary: fc.record({ method, path: randomPath }) }
  )
  const credentials = fc.array(fc.tuple(fc.constantFrom('authorization', 'token', 'Authorization', 'TOKEN'), credentialValue(knownTokens)), { maxLength: 3 })
  return fc.record({
    target,
    credentials,
    contentType: fc.option(contentType, { nil: undefined, freq: 3 }),
    extra: fc.array(extraHeader, { maxLength: 3 }),
    body: fc.option(body(knownTokens, knownCredentials), { nil: undefined, freq: 3 })
  }).map(({ target, credentials, contentType, extra, body }) => ({
    method: target.method,
    path: target.path,
    headers: [...credentials, ...(contentType === undefined ? [] : [['content-type', contentType] as [string, string]]), ...extra],
    body
  }))
}
