import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import fc from 'fast-check'
import { exchangeRaw } from './http.js'

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

/**
 * How the request went: by Node's client, or, for what that client refuses to send
 * (control characters in a header, a header name that is not a token...), as bytes
 * written on a socket.
 */
export type Wire = 'client' | 'socket'

export type SendOutcome =
  | { kind: 'response', wire: Wire, response: RawResponse }
  /** The request left, but the connection failed before a complete answer; `status` if a status line came. */
  | { kind: 'connection-error', wire: Wire, code: string, status?: number }

/** Codes of Node's client refusing a request before it leaves: such a request goes as bytes on a socket instead. */
const CLIENT_REFUSALS = new Set(['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_UNESCAPED_CHARACTERS', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_INVALID_ARG_VALUE'])

/** The headers sent with `raw`: Host unless it has one, Content-Length with a body, and Connection: close. */
function framedHeaders (raw: RawRequest, host: string): Array<[string, string]> {
  return [
    ...(raw.headers.some(([name]) => name.toLowerCase() === 'host') ? [] : [['host', host] as [string, string]]),
    ...raw.headers,
    ...(raw.body === undefined ? [] : [['content-length', String(raw.body.length)] as [string, string]]),
    ['connection', 'close']
  ]
}

/**
 * Sends `raw` with node:http on a connection of its own (no agent, `Connection: close`),
 * so that nothing of one request leaks into the next, and waits at most `timeoutMs`.
 * What Node's client refuses to send goes byte for byte on a socket instead.
 */
export function sendRaw (baseUrl: string, raw: RawRequest, timeoutMs = 5000): Promise<SendOutcome> {
  const { hostname, port } = new URL(baseUrl)
  const headers = framedHeaders(raw, `${hostname}:${port}`)
  return new Promise((resolve) => {
    let status: number | undefined
    let settled = false
    const settle = (outcome: SendOutcome) => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    const sendOnSocket = () => {
      sendBytes(baseUrl, raw, headers, timeoutMs).then(settle, (err: NodeJS.ErrnoException) => {
        settle({ kind: 'connection-error', wire: 'socket', code: err.code ?? 'UNKNOWN' })
      })
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
        headers: headers.flat(),
        // Node's client checks the header total against its own maxHeaderSize; allow what we send.
        maxHeaderSize: 64 * 1024
      })
    } catch (err) {
      if (CLIENT_REFUSALS.has((err as NodeJS.ErrnoException).code ?? '')) return sendOnSocket()
      throw err
    }
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'UNKNOWN'
      if (CLIENT_REFUSALS.has(code)) sendOnSocket()
      else settle({ kind: 'connection-error', wire: 'client', code, status })
    })
    req.on('response', (response) => {
      status = response.statusCode
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'connection-error', wire: 'client', code: err.code ?? 'UNKNOWN', status }))
      response.on('aborted', () => settle({ kind: 'connection-error', wire: 'client', code: 'ABORTED', status }))
      response.on('end', () => settle({
        kind: 'response',
        wire: 'client',
        response: { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }
      }))
    })
    if (raw.body === undefined) req.end()
    else req.end(raw.body)
  })
}

/** `raw` written byte for byte (header text as latin1, as Node's client would) on a socket, and the answer read from it. */
async function sendBytes (baseUrl: string, raw: RawRequest, headers: Array<[string, string]>, timeoutMs: number): Promise<SendOutcome> {
  const head = `${raw.method} ${raw.path} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`
  const answer = parseResponse(await exchangeRaw(baseUrl, Buffer.concat([Buffer.from(head, 'latin1'), raw.body ?? Buffer.alloc(0)]), timeoutMs))
  return answer.response === undefined
    ? { kind: 'connection-error', wire: 'socket', code: 'INCOMPLETE_ANSWER', status: answer.status }
    : { kind: 'response', wire: 'socket', response: answer.response }
}

/** An HTTP/1.1 answer read off a socket: its status once a status line came, the whole response once complete. */
export function parseResponse (bytes: Buffer): { status?: number, response?: RawResponse } {
  const statusLine = /^HTTP\/1\.[01] (\d{3}) /.exec(bytes.toString('latin1', 0, 16))
  if (statusLine === null) return {}
  const status = Number(statusLine[1])
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd < 0) return { status }
  const headers: IncomingHttpHeaders = {}
  for (const line of bytes.toString('latin1', 0, headEnd).split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const rest = bytes.subarray(headEnd + 4)
  const body = headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest.subarray(0, Number(headers['content-length'] ?? rest.length))
  if (body === undefined || body.length < Number(headers['content-length'] ?? 0)) return { status }
  return { status, response: { status, headers, body } }
}

/** The body of a chunked message; undefined when it stops before its last chunk. */
function dechunk (bytes: Buffer): Buffer | undefined {
  const chunks: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = Number.parseInt(bytes.toString('latin1', at, lineEnd), 16)
    if (Number.isNaN(size) || lineEnd + 2 + size > bytes.length) return undefined
    if (size === 0) return Buffer.concat(chunks)
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

/** How a request shows in a counterexample: short, and readable. */
export function describeRequest (raw: RawRequest): string {
  const cut = (text: string, max = 120) => text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text
  // Control characters as escapes, as JSON writes them: a CR or an ESC would garble the report.
  const visible = (text: string, max?: number) => [...cut(text, max)].map((char) => {
    const code = char.charCodeAt(0)
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : char
  }).join('')
  const headers = raw.headers.map(([name, value]) => `${visible(name, 40)}: ${visible(value, 60)}`).join('; ')
  const body = raw.body === undefined ? '' : ` body=${JSON.stringify(cut(raw.body.toString('latin1'), 80))}`
  return `${visible(raw.method)} ${visible(raw.path)} [${headers}]${body}`
}

// ---------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------

/** The characters of an HTTP token (RFC 9110 tchar): header names and methods. */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('')
const tchar = fc.constantFrom(...TCHARS)
export const httpToken = (maxLength = 20) => fc.string({ unit: tchar, minLength: 1, maxLength })

/** A control character: C0, DEL or C1; most often NUL, which PostgreSQL cannot store, CR and LF. */
export const controlChar = fc.oneof(
  { weight: 1, arbitrary: fc.constant('\u0000') },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\n') },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0x00, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })).map((code) => String.fromCharCode(code)) }
)

/**
 * Header value characters: mostly what Node's client accepts (tab, visible ASCII, space,
 * obs-text 0x80-0xff), and control characters, which then go byte for byte on a socket.
 */
const headerValueChar = fc.oneof(
  { weight: 16, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 2, arbitrary: fc.constant('\t') },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: controlChar }
)
export const headerValue = (maxLength = 80) => fc.string({ unit: headerValueChar, maxLength })

/**
 * Text that JSON must escape: quotes, backslashes and control characters (two to six
 * bytes each in JSON), among ordinary characters; short, or long runs of one of them.
 */
export function escapeHeavy (maxLength = 40) {
  const unit = fc.oneof(fc.constantFrom('"', '\\', '\t', '\u2028', 'a', '@', '.'), controlChar)
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit, maxLength }) },
    { weight: 1, arbitrary: fc.tuple(unit, fc.integer({ min: 1, max: maxLength })).map(([char, n]) => char.repeat(n)) }
  )
}

/** Header tokens JSON must escape, up to past Node's 16 KiB header limit: 9,000 quotes among them. */
const escapeHeavyToken = fc.oneof(
  escapeHeavy(40),
  fc.tuple(fc.constantFrom('"', '\\', '\\"', '\t'), fc.integer({ min: 1000, max: 17_000 }))
    .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n)),
  fc.constant('"'.repeat(9000))
)

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
  fc.string({ unit: fc.oneof(pathChar, controlChar), maxLength: 60 }).map((p) => `/${p}`),
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
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => `Bearer ${'A'.repeat(n)}`) },
    { weight: 2, arbitrary: escapeHeavyToken.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: escapeHeavyToken },
    // A real token with a control character in it or around it: refused, and never logged.
    { weight: 1, arbitrary: fc.tuple(someToken, controlChar, fc.nat(32)).map(([t, char, at]) => `Bearer ${t.slice(0, at)}${char}${t.slice(at)}`) }
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
 * Login bodies' fields: addresses, strings, JSON values of the wrong type, text JSON must
 * escape (control characters included), and real credentials, as they are or with such a
 * character put into one field.
 */
export function loginFields (knownCredentials: readonly Credentials[] = []) {
  // An address or a password with a control character, a quote or a backslash somewhere in it.
  const withEscapes = (base: fc.Arbitrary<string>) => fc.tuple(base, fc.oneof(controlChar, escapeHeavy(3)), fc.nat()).map(([text, inserted, at]) => {
    const cut = at % (text.length + 1)
    return text.slice(0, cut) + inserted + text.slice(cut)
  })
  const fields = fc.record({
    username: fc.oneof(
      fc.emailAddress(), fc.string({ maxLength: 300 }), fc.constant(''), fc.jsonValue({ maxDepth: 1 }),
      escapeHeavy(60), withEscapes(fc.emailAddress())
    ),
    password: fc.oneof(
      fc.string({ maxLength: 40 }), fc.constant(''), fc.string({ minLength: 1020, maxLength: 1100 }), fc.jsonValue({ maxDepth: 1 }),
      escapeHeavy(60)
    )
  }, { requiredKeys: [] })
  // Real credentials with a control character in either field.
  const spoiled = knownCredentials.length === 0
    ? fields
    : fc.tuple(fc.constantFrom(...knownCredentials), fc.boolean()).chain(([credentials, inUsername]) => inUsername
      ? withEscapes(fc.constant(credentials.username)).map((username) => ({ ...credentials, username }))
      : withEscapes(fc.constant(credentials.password)).map((password) => ({ ...credentials, password })))
  return knownCredentials.length === 0
    ? fields
    : fc.oneof({ weight: 2, arbitrary: fields }, { weight: 1, arbitrary: fc.constantFrom(...knownCredentials) }, { weight: 2, arbitrary: spoiled })
}

const utf8 = (text: string) => Buffer.from(text, 'utf8')

/**
 * Bodies: JSON of every shape (login-like included, sometimes with real credentials),
 * text, bytes, multipart garbage, and sizes past the 16 KiB limit.
 */
export function body (knownTokens: readonly string[], knownCredentials: readonly Credentials[] = []) {
  const loginish = loginFields(knownCredentials)
  const tokenBody = fc.record({
    token: knownTokens.length === 0 ? fc.oneof(fc.string(), escapeHeavyToken) : fc.oneof(fc.string(), escapeHeavyToken, fc.constantFrom(...knownTokens))
  })
  return fc.oneof(
    { weight: 3, arbitrary: loginish.map((value) => utf8(JSON.stringify(value))) },
    { weight: 1, arbitrary: tokenBody.map((value) => utf8(JSON.stringify(value))) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map(utf8) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map(utf8) },
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
      ).map(utf8)
    },
    { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 40_000 }).map((n) => utf8(JSON.stringify({ username: 'a@b.c', password: 'p'.repeat(n) }))) }
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
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n): [string, string] => [`x-big-${n}`, 'v'.repeat(n)]) },
  // Names that are no HTTP token: control characters, spaces, separators.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string({ unit: fc.oneof(tchar, controlChar, fc.constantFrom(' ', ':', '"', '(')), minLength: 1, maxLength: 20 }), headerValue(30))
  }
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
  const anyRequest = fc.record({
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
  // Each route with its own method and one or two token headers, often tokens JSON must escape: they reach the handlers.
  const withToken = fc.record({
    endpoint: fc.constantFrom(...endpoints),
    credentials: fc.array(fc.tuple(
      fc.constantFrom('authorization', 'token'),
      fc.oneof(credentialValue(knownTokens), escapeHeavyToken, escapeHeavyToken.map((t) => `Bearer ${t}`))
    ), { minLength: 1, maxLength: 2 })
  }).map(({ endpoint, credentials }): RawRequest => ({ method: endpoint.method, path: endpoint.path, headers: credentials }))
  // Well-framed JSON logins, so that odd fields reach the handler and the user store, not only the parsers.
  const loginPaths = endpoints.filter((endpoint) => endpoint.method === 'POST' && endpoint.path.endsWith('/login')).map((endpoint) => endpoint.path)
  if (loginPaths.length === 0) return fc.oneof({ weight: 3, arbitrary: anyRequest }, { weight: 1, arbitrary: withToken })
  const login = fc.record({
    path: fc.constantFrom(...loginPaths),
    fields: loginFields(knownCredentials),
    extra: fc.array(extraHeader, { maxLength: 1 })
  }).map(({ path, fields, extra }): RawRequest => ({
    method: 'POST',
    path,
    headers: [['content-type', 'application/json'], ...extra],
    body: utf8(JSON.stringify(fields))
  }))
  return fc.oneof({ weight: 2, arbitrary: anyRequest }, { weight: 1, arbitrary: withToken }, { weight: 1, arbitrary: login })
}
