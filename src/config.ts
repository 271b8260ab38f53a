import { isIP } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'

const Seconds = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, default: defaultValue, description })

/**
 * Every setting of the service (docs/CONTRACT.md, "Settings"), validated once at start
 * by loadConfig. `Config` is derived from it, so the type cannot drift.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'listening port' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'listening address' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino level' }),
  TOKEN_TTL_SECONDS: Seconds(30, 'idle lifetime of a token, reset by each successful validation'),
  TOKEN_MAX_LIFETIME_SECONDS: Seconds(86400, 'absolute lifetime of a token, whatever its use'),
  CLEANUP_INTERVAL_SECONDS: Seconds(10, 'period of the job that removes expired tokens'),
  TOKEN_STORE: Type.Enum(['memory', 'redis'], { default: 'memory', description: 'where tokens live' }),
  REDIS_URL: Type.Optional(Type.String({
    pattern: '^\\s*rediss?://[^,\\s]+(\\s*,\\s*rediss?://[^,\\s]+)*\\s*$',
    description: 'required when TOKEN_STORE=redis; with REDIS_CLUSTER, a comma-separated list of seed nodes'
  })),
  REDIS_CLUSTER: Type.Boolean({ default: false, description: 'REDIS_URL names a Redis Cluster' }),
  // Braces would move the hash tag that keeps each user's keys in one cluster slot.
  REDIS_KEY_PREFIX: Type.String({ pattern: '^[^{}]*$', default: 'token-auth:', description: 'prefix of every Redis key the service writes' }),
  // A string, not a boolean or number: env values are text and `false | hops | list` is one setting (trustedProxies reads it).
  TRUST_PROXY: Type.String({
    minLength: 1,
    default: 'false',
    description: '`false`, the number of proxy hops, or a comma-separated list of proxy addresses and CIDRs'
  }),
  CORS_ORIGINS: Type.Optional(Type.String({ description: 'comma-separated origins whose pages may call the API from a browser; unset: none' })),
  TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  USERS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  USER_STORE: Type.Enum(['memory', 'postgres'], { default: 'memory', description: 'where users live' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'required when USER_STORE=postgres' })),
  FORWARD_AUTH: Type.Boolean({ default: false, description: 'serve GET /auth/verify for reverse proxies' }),
  METRICS: Type.Boolean({ default: false, description: 'serve Prometheus metrics at GET /metrics' }),
  LOGIN_MAX_PER_IP: Type.Integer({ minimum: 1, default: 20, description: 'login attempts per client address per window' }),
  LOGIN_MAX_PER_USERNAME: Type.Integer({ minimum: 1, default: 10, description: 'failed login attempts per username per window' }),
  LOGIN_WINDOW_SECONDS: Seconds(60, 'the login throttling window'),
  HASH_CONCURRENCY: Type.Integer({ minimum: 1, default: 4, description: 'password verifications running at once' }),
  HASH_QUEUE_LIMIT: Type.Integer({ minimum: 0, default: 64, description: 'password verifications waiting; beyond, login answers 503' })
})

/** The variables, each as the schema checks it alone. */
type Variables = Static<typeof ConfigSchema>

/**
 * The validated configuration: the variables, with what loadConfig's checks of the pairs
 * guarantee written into the type, so that `config.TOKEN_STORE === 'redis'` gives a
 * REDIS_URL, `config.USER_STORE === 'postgres'` a DATABASE_URL, and one TLS file the
 * other, without an assertion. The names stay those of the environment: one name per
 * setting, in the code as in the contract.
 */
export type Config = Omit<Variables, 'TOKEN_STORE' | 'REDIS_URL' | 'USER_STORE' | 'DATABASE_URL' | 'TLS_CERT_FILE' | 'TLS_KEY_FILE'>
  & ({ TOKEN_STORE: 'memory', REDIS_URL?: string } | { TOKEN_STORE: 'redis', REDIS_URL: string })
  & ({ USER_STORE: 'memory', DATABASE_URL?: string } | { USER_STORE: 'postgres', DATABASE_URL: string })
  & ({ TLS_CERT_FILE?: undefined, TLS_KEY_FILE?: undefined } | { TLS_CERT_FILE: string, TLS_KEY_FILE: string })

/** What a caller may give: anything an environment or a test would set, as text or as values. */
export type ConfigSource = Record<string, string | number | boolean | undefined>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Validates `source` (an environment) against ConfigSchema, applies defaults and the
 * rules that span two variables. Throws a ConfigError whose message is one line naming
 * the variable; values are never echoed, since REDIS_URL may carry a password.
 */
export function loadConfig (source: ConfigSource, { dotenv = false } = {}): Config {
  let config: Variables
  try {
    config = envSchema<Variables>({ schema: structuredClone(ConfigSchema), data: withoutEmptyValues(source), env: false, dotenv })
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${describeFirstError(err)}`)
  }
  if (config.TOKEN_STORE === 'redis' && config.REDIS_URL === undefined) {
    throw new ConfigError('Invalid configuration: REDIS_URL is required when TOKEN_STORE=redis')
  }
  if (config.REDIS_URL !== undefined) checkRedisUrls(config.REDIS_URL, config.REDIS_CLUSTER)
  if (config.USER_STORE === 'postgres' && config.DATABASE_URL === undefined) {
    throw new ConfigError('Invalid configuration: DATABASE_URL is required when USER_STORE=postgres')
  }
  if ((config.TLS_CERT_FILE === undefined) !== (config.TLS_KEY_FILE === undefined)) {
    throw new ConfigError('Invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE must be set together')
  }
  trustedProxies(config)
  corsOrigins(config)
  // The three checks of pairs above are what Config adds to Variables.
  return config as Config
}

/** The URLs of REDIS_URL: one, or a comma-separated list of a cluster's seed nodes. */
export function redisUrls (value: string): string[] {
  return value.split(',').map((url) => url.trim()).filter((url) => url !== '')
}

/** Several seed nodes only for a cluster, and one scheme for all: TLS is the whole cluster's, or no node's. */
function checkRedisUrls (value: string, cluster: boolean): void {
  const urls = redisUrls(value)
  if (urls.length > 1 && !cluster) {
    throw new ConfigError('Invalid configuration: REDIS_URL lists several nodes, which only REDIS_CLUSTER=true allows')
  }
  if (new Set(urls.map((url) => url.startsWith('rediss:'))).size > 1) {
    throw new ConfigError('Invalid configuration: REDIS_URL mixes redis:// and rediss:// nodes')
  }
}

/** `PORT=` in a .env file or a platform's settings means "not set", as it does for most tools. */
function withoutEmptyValues (source: ConfigSource): ConfigSource {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''))
}

interface AjvError { instancePath: string, message?: string, params?: { allowedValues?: string[] } }

function describeFirstError (err: unknown): string {
  const errors = (err as { errors?: AjvError[] }).errors
  const first = errors?.[0]
  if (first === undefined) return (err as Error).message
  const variable = first.instancePath.replace(/^\//, '').split('/')[0]
  const allowed = first.params?.allowedValues
  return `${variable} ${first.message ?? 'is invalid'}${allowed ? ` (${allowed.join(', ')})` : ''}`
}

/**
 * Whose `X-Forwarded-For` is believed, from TRUST_PROXY: nobody (`false`); the nearest
 * `hops` proxies, whoever they are; or the proxies at these addresses and ranges (IPv4 or
 * IPv6 addresses, CIDRs, and proxy-addr's names `loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustedProxies = false | number | string[]

/** The names proxy-addr gives to the loopback, link-local and private ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** TRUST_PROXY read; a ConfigError naming it when an entry of a list is no address or range. */
export function trustedProxies (config: Pick<Config, 'TRUST_PROXY'>): TrustedProxies {
  const setting = config.TRUST_PROXY.trim()
  if (setting === 'false') return false
  if (/^[0-9]+$/.test(setting)) return Number(setting)
  const entries = setting.split(',').map((entry) => entry.trim())
  try {
    for (const entry of entries) {
      // Strict first: proxy-addr also takes shorthands such as `1.5` (1.0.0.5), surely a typing mistake here.
      const address = entry.split('/')[0]!
      if (!NAMED_RANGES.has(entry) && isIP(address) === 0) throw new Error(`invalid IP address: ${address}`)
    }
    // Then the compiler Fastify runs on the list: what it refuses here would stop the server later.
    proxyAddr.compile(entries)
  } catch (err) {
    throw new ConfigError('Invalid configuration: TRUST_PROXY must be false, a number of proxy hops, or a ' +
      `comma-separated list of proxy addresses and CIDRs (${(err as Error).message})`)
  }
  return entries
}

/**
 * The origins of CORS_ORIGINS (none when unset). Each entry must be an exact origin as a
 * browser sends it in `Origin`, `scheme://host[:port]`: a trailing slash, a path, a
 * default port, capitals or a wildcard would never match, so they stop the start instead.
 */
export function corsOrigins (config: Pick<Config, 'CORS_ORIGINS'>): string[] {
  if (config.CORS_ORIGINS === undefined) return []
  return config.CORS_ORIGINS.split(',').map((entry) => {
    const origin = entry.trim()
    const parsed = URL.canParse(origin) ? new URL(origin) : undefined
    if (parsed?.origin !== origin || !['http:', 'https:'].includes(parsed.protocol)) {
      const hint = parsed !== undefined && parsed.origin !== 'null' ? ` (did you mean ${parsed.origin}?)` : ''
      throw new ConfigError(`Invalid configuration: CORS_ORIGINS must list origins such as https://app.example.com, separated by commas; ${JSON.stringify(origin)} is not one${hint}`)
    }
    return origin
  })
}
