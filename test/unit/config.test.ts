import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, ConfigSchema, corsOrigins, loadConfig, trustedProxies, type ConfigSource } from '../../src/config.js'

/** The defaults of docs/CONTRACT.md's table (the schema may hold more variables; each is checked against its own default). */
const DEFAULTS = {
  PORT: 3000,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  TOKEN_TTL_SECONDS: 30,
  TOKEN_MAX_LIFETIME_SECONDS: 86400,
  CLEANUP_INTERVAL_SECONDS: 10,
  TOKEN_STORE: 'memory',
  TRUST_PROXY: 'false'
} as const

/** Every variable of ConfigSchema that has a default, with that default. */
const SCHEMA_DEFAULTS = Object.fromEntries(
  Object.entries(ConfigSchema.properties as Record<string, { default?: unknown }>)
    .filter(([, property]) => property.default !== undefined)
    .map(([name, property]) => [name, property.default])
)

const REDIS_PASSWORD = 'Sup3r-S3cret-Pa55'

/** The ConfigError that loadConfig throws for `source`; fails the test when it throws nothing or something else. */
function configErrorOf (source: ConfigSource): ConfigError {
  try {
    loadConfig(source)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error(`loadConfig accepted ${Object.keys(source).join(', ')}`)
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('gives the contract default of every variable for an empty environment', () => {
      expect(loadConfig({})).toMatchObject(DEFAULTS)
    })

    it('gives every variable of the schema that has a default that default, and sets nothing else', () => {
      expect(Object.keys(SCHEMA_DEFAULTS)).toEqual(expect.arrayContaining(Object.keys(DEFAULTS)))
      expect(loadConfig({})).toEqual(SCHEMA_DEFAULTS)
    })

    it('leaves the optional variables unset rather than inventing values', () => {
      const config = loadConfig({})
      for (const name of ['REDIS_URL', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'USERS_FILE']) {
        expect(config).not.toHaveProperty(name)
      }
    })

    it('treats a variable given as undefined as not set', () => {
      expect(loadConfig({ PORT: undefined, REDIS_URL: undefined, USERS_FILE: undefined })).toEqual(SCHEMA_DEFAULTS)
    })

    it('does not read process.env by itself', () => {
      vi.stubEnv('PORT', '4321')
      vi.stubEnv('LOG_LEVEL', 'debug')
      try {
        expect(loadConfig({})).toEqual(SCHEMA_DEFAULTS)
      } finally {
        vi.unstubAllEnvs()
      }
    })
  })

  describe('overrides', () => {
    it('accepts every variable as text, the way an environment gives it, and converts the numbers', () => {
      const config = loadConfig({
        PORT: '8080',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
        TOKEN_TTL_SECONDS: '60',
        TOKEN_MAX_LIFETIME_SECONDS: '3600',
        CLEANUP_INTERVAL_SECONDS: '5',
        TOKEN_STORE: 'redis',
        REDIS_URL: 'redis://127.0.0.1:6379',
        TRUST_PROXY: '1',
        TLS_CERT_FILE: '/etc/tls/cert.pem',
        TLS_KEY_FILE: '/etc/tls/key.pem',
        USERS_FILE: 'users.json'
      })
      expect(config).toMatchObject({
        PORT: 8080,
        HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
        TOKEN_TTL_SECONDS: 60,
        TOKEN_MAX_LIFETIME_SECONDS: 3600,
        CLEANUP_INTERVAL_SECONDS: 5,
        TOKEN_STORE: 'redis',
        REDIS_URL: 'redis://127.0.0.1:6379',
        TRUST_PROXY: '1',
        TLS_CERT_FILE: '/etc/tls/cert.pem',
        TLS_KEY_FILE: '/etc/tls/key.pem',
        USERS_FILE: 'users.json'
      })
    })

    it('accepts numbers given as numbers', () => {
      const config = loadConfig({ PORT: 8443, TOKEN_TTL_SECONDS: 1, TOKEN_MAX_LIFETIME_SECONDS: 120, CLEANUP_INTERVAL_SECONDS: 2 })
      expect(config).toMatchObject({ PORT: 8443, TOKEN_TTL_SECONDS: 1, TOKEN_MAX_LIFETIME_SECONDS: 120, CLEANUP_INTERVAL_SECONDS: 2 })
    })

    it('accepts the bounds of PORT (0 and 65535) and the minimum of a lifetime (1)', () => {
      expect(loadConfig({ PORT: '0' }).PORT).toBe(0)
      expect(loadConfig({ PORT: '65535' }).PORT).toBe(65535)
      expect(loadConfig({ TOKEN_TTL_SECONDS: '1' }).TOKEN_TTL_SECONDS).toBe(1)
    })

    it('accepts rediss:// (TLS) as well as redis://', () => {
      expect(loadConfig({ TOKEN_STORE: 'redis', REDIS_URL: 'rediss://redis.example.com:6380' }).REDIS_URL)
        .toBe('rediss://redis.example.com:6380')
    })

    it('accepts a Redis Cluster: REDIS_CLUSTER=true and a comma-separated list of seed nodes, one is enough', () => {
      const urls = 'redis://10.0.0.1:7000, redis://10.0.0.2:7000,redis://10.0.0.3:7000'
      expect(loadConfig({ TOKEN_STORE: 'redis', REDIS_CLUSTER: 'true', REDIS_URL: urls })).toMatchObject({ REDIS_CLUSTER: true, REDIS_URL: urls })
      expect(loadConfig({ TOKEN_STORE: 'redis', REDIS_CLUSTER: 'true', REDIS_URL: 'rediss://a.example.com:6380,rediss://b.example.com:6380' }).REDIS_CLUSTER).toBe(true)
      expect(loadConfig({ TOKEN_STORE: 'redis', REDIS_CLUSTER: true, REDIS_URL: 'redis://10.0.0.1:7000' }).REDIS_CLUSTER).toBe(true)
      expect(loadConfig({}).REDIS_CLUSTER).toBe(false)
    })

    it('accepts every pino level', () => {
      for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
        expect(loadConfig({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level)
      }
    })

    it('ignores unknown variables, as a real environment is full of them', () => {
      const config = loadConfig({ PATH: '/usr/bin', HOME: '/root', FOO: 'bar', PORT: '3001' })
      expect(config).toEqual({ ...SCHEMA_DEFAULTS, PORT: 3001 })
      expect(config).not.toHaveProperty('FOO')
      expect(config).not.toHaveProperty('PATH')
    })

    it('does not change the source it is given', () => {
      const source = { PORT: '3001', FOO: 'bar' }
      loadConfig(source)
      expect(source).toEqual({ PORT: '3001', FOO: 'bar' })
    })

    it('gives the same answer when called twice', () => {
      expect(loadConfig({ PORT: '3001' })).toEqual(loadConfig({ PORT: '3001' }))
      expect(loadConfig({})).toEqual(SCHEMA_DEFAULTS)
    })
  })

  describe('failures', () => {
    it.each<[string, ConfigSource, string]>([
      ['TOKEN_TTL_SECONDS=abc', { TOKEN_TTL_SECONDS: 'abc' }, 'TOKEN_TTL_SECONDS'],
      ['TOKEN_TTL_SECONDS=0', { TOKEN_TTL_SECONDS: '0' }, 'TOKEN_TTL_SECONDS'],
      ['TOKEN_TTL_SECONDS=1.5', { TOKEN_TTL_SECONDS: '1.5' }, 'TOKEN_TTL_SECONDS'],
      ['TOKEN_TTL_SECONDS=0 as a number', { TOKEN_TTL_SECONDS: 0 }, 'TOKEN_TTL_SECONDS'],
      ['TOKEN_MAX_LIFETIME_SECONDS=0', { TOKEN_MAX_LIFETIME_SECONDS: '0' }, 'TOKEN_MAX_LIFETIME_SECONDS'],
      ['CLEANUP_INTERVAL_SECONDS=-5', { CLEANUP_INTERVAL_SECONDS: '-5' }, 'CLEANUP_INTERVAL_SECONDS'],
      ['PORT=-1', { PORT: '-1' }, 'PORT'],
      ['PORT=70000', { PORT: '70000' }, 'PORT'],
      ['PORT=70000 as a number', { PORT: 70000 }, 'PORT'],
      ['PORT=http', { PORT: 'http' }, 'PORT'],
      ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      ['TOKEN_STORE=mysql', { TOKEN_STORE: 'mysql' }, 'TOKEN_STORE'],
      ['TOKEN_STORE=redis without REDIS_URL', { TOKEN_STORE: 'redis' }, 'REDIS_URL'],
      ['REDIS_URL not redis://', { TOKEN_STORE: 'redis', REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
      ['REDIS_URL with a list item not redis://', { TOKEN_STORE: 'redis', REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:7000,http://b:7000' }, 'REDIS_URL'],
      ['REDIS_URL listing nodes without REDIS_CLUSTER', { TOKEN_STORE: 'redis', REDIS_URL: 'redis://a:7000,redis://b:7000' }, 'REDIS_CLUSTER'],
      ['REDIS_URL mixing redis:// and rediss://', { TOKEN_STORE: 'redis', REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:7000,rediss://b:7000' }, 'rediss://'],
      ['REDIS_CLUSTER=maybe', { REDIS_CLUSTER: 'maybe' }, 'REDIS_CLUSTER'],
      ['REDIS_KEY_PREFIX with a brace', { REDIS_KEY_PREFIX: 'auth{1}:' }, 'REDIS_KEY_PREFIX'],
      ['TRUST_PROXY=maybe', { TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
      ['TRUST_PROXY=true', { TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
      ['TRUST_PROXY=-1', { TRUST_PROXY: '-1' }, 'TRUST_PROXY'],
      ['TRUST_PROXY=1.5', { TRUST_PROXY: '1.5' }, 'TRUST_PROXY'],
      ['TRUST_PROXY with an address out of range', { TRUST_PROXY: '10.0.0.1, 10.0.0.300' }, 'TRUST_PROXY'],
      ['TRUST_PROXY with a prefix too long', { TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
      ['TRUST_PROXY trusting every IPv4 address', { TRUST_PROXY: '0.0.0.0/0' }, 'TRUST_PROXY'],
      ['TRUST_PROXY trusting every IPv6 address', { TRUST_PROXY: '::/0' }, 'TRUST_PROXY'],
      ['TRUST_PROXY with a host name', { TRUST_PROXY: 'proxy.example.com' }, 'TRUST_PROXY'],
      ['TRUST_PROXY with an empty entry', { TRUST_PROXY: '10.0.0.1,' }, 'TRUST_PROXY'],
      ['TLS_CERT_FILE without TLS_KEY_FILE', { TLS_CERT_FILE: '/etc/tls/cert.pem' }, 'TLS_KEY_FILE'],
      ['TLS_KEY_FILE without TLS_CERT_FILE', { TLS_KEY_FILE: '/etc/tls/key.pem' }, 'TLS_CERT_FILE']
    ])('%s: a ConfigError of one line naming the variable', (_case, source, variable) => {
      const error = configErrorOf(source)
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toBeInstanceOf(Error)
      expect(error.name).toBe('ConfigError')
      expect(error.message).not.toMatch(/[\r\n]/)
      expect(error.message).toContain(variable)
    })

    it('takes an empty value for unset, as .env files and platform settings mean it', () => {
      expect(loadConfig({ HOST: '', PORT: '', USERS_FILE: '' })).toMatchObject({ HOST: '127.0.0.1', PORT: 3000 })
      expect(loadConfig({ USERS_FILE: '' }).USERS_FILE).toBeUndefined()
      expect(configErrorOf({ TOKEN_STORE: 'redis', REDIS_URL: '' }).message).toContain('REDIS_URL is required')
    })

    it('names both TLS variables when only one is set', () => {
      expect(configErrorOf({ TLS_CERT_FILE: 'cert.pem' }).message).toMatch(/TLS_CERT_FILE.*TLS_KEY_FILE/)
      expect(configErrorOf({ TLS_KEY_FILE: 'key.pem' }).message).toMatch(/TLS_CERT_FILE.*TLS_KEY_FILE/)
    })

    it('lists the allowed values of an enumerated variable', () => {
      expect(configErrorOf({ LOG_LEVEL: 'loud' }).message).toContain('fatal, error, warn, info, debug, trace, silent')
      expect(configErrorOf({ TOKEN_STORE: 'mysql' }).message).toContain('memory, redis')
    })

    it('names the invalid variable, not a valid one given beside it', () => {
      const message = configErrorOf({ PORT: '8080', LOG_LEVEL: 'loud' }).message
      expect(message).toContain('LOG_LEVEL')
      expect(message).not.toContain('PORT')
    })

    it.each([
      ['with a password, wrong scheme', `http://default:${REDIS_PASSWORD}@redis.example.com:6379`],
      ['with a password, no scheme', `default:${REDIS_PASSWORD}@redis.example.com:6379`],
      ['with a password, scheme in upper case', `REDIS://default:${REDIS_PASSWORD}@redis.example.com:6379`],
      ['with a password and a line break', `http://default:${REDIS_PASSWORD}@redis.example.com\n:6379`]
    ])('never echoes an invalid REDIS_URL (%s)', (_case, url) => {
      const message = configErrorOf({ TOKEN_STORE: 'redis', REDIS_URL: url }).message
      expect(message).toContain('REDIS_URL')
      expect(message).not.toContain(REDIS_PASSWORD)
      expect(message).not.toContain('redis.example.com')
      expect(message).not.toMatch(/[\r\n]/)
    })

    it('never echoes a valid REDIS_URL when another variable is the invalid one', () => {
      const url = `redis://default:${REDIS_PASSWORD}@redis.example.com:6379`
      for (const source of [
        { TOKEN_STORE: 'redis', REDIS_URL: url, PORT: '-1' },
        { TOKEN_STORE: 'mysql', REDIS_URL: url },
        { TOKEN_STORE: 'redis', REDIS_URL: url, TLS_CERT_FILE: 'cert.pem' }
      ]) {
        const message = configErrorOf(source).message
        expect(message).not.toContain(REDIS_PASSWORD)
        expect(message).not.toContain('redis.example.com')
      }
    })

    it('accepts a redis:// REDIS_URL with a password and keeps it intact', () => {
      const url = `redis://default:${REDIS_PASSWORD}@redis.example.com:6379`
      expect(loadConfig({ TOKEN_STORE: 'redis', REDIS_URL: url }).REDIS_URL).toBe(url)
    })
  })

  describe('dotenv', () => {
    // process.chdir is unsupported in worker threads; vitest's default pool (forks) allows it.
    const canChdir = isMainThread
    let originalCwd: string
    let dir: string

    beforeEach(() => {
      originalCwd = process.cwd()
      dir = mkdtempSync(join(tmpdir(), 'config-dotenv-'))
    })

    afterEach(() => {
      process.chdir(originalCwd)
      rmSync(dir, { recursive: true, force: true })
    })

    function inDir<T> (fn: () => T): T {
      process.chdir(dir)
      try {
        return fn()
      } finally {
        process.chdir(originalCwd)
      }
    }

    it.runIf(canChdir)('reads .env from the current directory with dotenv: true', () => {
      writeFileSync(join(dir, '.env'), 'PORT=4100\nLOG_LEVEL=warn\nTRUST_PROXY=1\n')
      const config = inDir(() => loadConfig({}, { dotenv: true }))
      expect(config).toEqual({ ...SCHEMA_DEFAULTS, PORT: 4100, LOG_LEVEL: 'warn', TRUST_PROXY: '1' })
    })

    it.runIf(canChdir)('ignores .env without dotenv: true', () => {
      writeFileSync(join(dir, '.env'), 'PORT=4100\n')
      expect(inDir(() => loadConfig({}))).toEqual(SCHEMA_DEFAULTS)
      expect(inDir(() => loadConfig({}, { dotenv: false }))).toEqual(SCHEMA_DEFAULTS)
    })

    it.runIf(canChdir)('lets the given source win over .env', () => {
      writeFileSync(join(dir, '.env'), 'PORT=4100\nHOST=0.0.0.0\n')
      const config = inDir(() => loadConfig({ PORT: '4200' }, { dotenv: true }))
      expect(config.PORT).toBe(4200)
      expect(config.HOST).toBe('0.0.0.0')
    })

    it.runIf(canChdir)('falls back to the defaults when there is no .env', () => {
      expect(inDir(() => loadConfig({}, { dotenv: true }))).toEqual(SCHEMA_DEFAULTS)
    })

    it.runIf(canChdir)('validates what .env gives, with a ConfigError naming the variable', () => {
      writeFileSync(join(dir, '.env'), 'TOKEN_TTL_SECONDS=abc\n')
      let caught: unknown
      try {
        inDir(() => loadConfig({}, { dotenv: true }))
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(ConfigError)
      expect((caught as ConfigError).message).toContain('TOKEN_TTL_SECONDS')
    })

    it.runIf(canChdir)('does not copy .env into process.env', () => {
      writeFileSync(join(dir, '.env'), 'PORT=4100\nCONFIG_TEST_ONLY_VARIABLE=1\n')
      inDir(() => loadConfig({}, { dotenv: true }))
      expect(process.env.CONFIG_TEST_ONLY_VARIABLE).toBeUndefined()
    })

    it.runIf(canChdir)('accepts the .env.example shipped with the project', () => {
      const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
      writeFileSync(join(dir, '.env'), example)
      expect(inDir(() => loadConfig({}, { dotenv: true }))).toEqual(SCHEMA_DEFAULTS)
    })
  })
})

describe('corsOrigins', () => {
  it('is empty when CORS_ORIGINS is unset or empty: no CORS, the default', () => {
    expect(corsOrigins(loadConfig({}))).toEqual([])
    expect(corsOrigins(loadConfig({ CORS_ORIGINS: '' }))).toEqual([])
  })

  it('lists the comma-separated origins, spaces around them dropped', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173 ,http://[::1]:8080' })
    expect(corsOrigins(config)).toEqual(['https://app.example.com', 'http://localhost:5173', 'http://[::1]:8080'])
  })

  it.each([
    ['a wildcard', '*', ''],
    ['a trailing slash', 'https://app.example.com/', 'https://app.example.com'],
    ['a path', 'https://app.example.com/app', 'https://app.example.com'],
    ['a default port', 'https://app.example.com:443', 'https://app.example.com'],
    ['capitals', 'https://App.Example.com', 'https://app.example.com'],
    ['no scheme', 'app.example.com', ''],
    ['another scheme', 'ftp://app.example.com', ''],
    ['the null origin', 'null', ''],
    ['an empty entry', 'https://a.example.com,,https://b.example.com', ''],
    ['a bad entry after a good one', 'https://a.example.com, *.example.com', '']
  ])('stops the start on %s, with one line naming CORS_ORIGINS and the entry', (_case, value, suggestion) => {
    const message = configErrorOf({ CORS_ORIGINS: value }).message
    expect(message).toMatch(/^Invalid configuration: CORS_ORIGINS /)
    expect(message).not.toMatch(/[\r\n]/)
    if (suggestion !== '') expect(message).toContain(`did you mean ${suggestion}?`)
  })
})

describe('trustedProxies', () => {
  it('is false for TRUST_PROXY=false (the default)', () => {
    expect(trustedProxies(loadConfig({}))).toBe(false)
    expect(trustedProxies(loadConfig({ TRUST_PROXY: 'false' }))).toBe(false)
  })

  it('is the number of hops for a number', () => {
    expect(trustedProxies(loadConfig({ TRUST_PROXY: '1' }))).toBe(1)
    expect(trustedProxies(loadConfig({ TRUST_PROXY: '2' }))).toBe(2)
  })

  it('is a number, never the text of TRUST_PROXY, and 0 hops is not false', () => {
    expect(trustedProxies(loadConfig({ TRUST_PROXY: '3' }))).not.toBe('3')
    expect(trustedProxies(loadConfig({ TRUST_PROXY: '0' }))).toBe(0)
  })

  it('is the list of addresses and ranges for a comma-separated list, IPv4 and IPv6, without the spaces', () => {
    expect(trustedProxies(loadConfig({ TRUST_PROXY: '10.0.0.1' }))).toEqual(['10.0.0.1'])
    expect(trustedProxies(loadConfig({ TRUST_PROXY: ' 10.0.0.0/8 , 192.168.1.7,fd00::/8, 2001:db8::1 ' })))
      .toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '2001:db8::1'])
    expect(trustedProxies(loadConfig({ TRUST_PROXY: 'loopback,uniquelocal' }))).toEqual(['loopback', 'uniquelocal'])
  })

  it('names TRUST_PROXY and the entry it cannot use', () => {
    expect(configErrorOf({ TRUST_PROXY: '10.0.0.1, 10.0.0.300' }).message)
      .toBe('Invalid configuration: TRUST_PROXY must be false, a number of proxy hops, or a comma-separated list of ' +
        'proxy addresses and CIDRs (invalid IP address: 10.0.0.300)')
  })
})
