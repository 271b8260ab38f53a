import { parseArgs } from 'node:util'

/** Every scenario, in the order a run takes them. */
export const SCENARIOS = ['throughput', 'inject', 'login', 'flood', 'memory', 'redis'] as const
export type ScenarioName = typeof SCENARIOS[number]

export interface BenchOptions {
  /** A few seconds in all: proves every scenario still runs (the test suite's mode); its timings mean nothing. */
  quick: boolean
  /** Connections of every load, the same for each scenario. */
  connections: number
  /** Requests of each measured run of the throughput scenarios; calls of each kind per round of the inject scenario. */
  requests: number
  /** Requests of the warm-up before each measured run. */
  warmup: number
  /** Rounds of the throughput scenarios, run in turn; the table gives each one's median. */
  rounds: number
  /** Seconds of each login measurement (the server's login, then argon2 alone). */
  loginSeconds: number
  /** Seconds of /business/data alone, then of /business/data under the login flood. */
  floodSeconds: number
  /** Store sizes at which the memory per token is measured. */
  memoryTokens: number[]
  /** Expired tokens that one cleanup removes. */
  cleanupTokens: number
  /** Where the results go as JSON, besides the tables. */
  json: string | undefined
  /** The scenarios to run; all by default. */
  only: Set<ScenarioName>
  /** A directory: the servers run with --cpu-prof and write their profiles there. */
  profile: string | undefined
}

export const USAGE = `npm run bench [-- options]

  --quick                a few seconds: every scenario once, tiny loads (timings mean nothing)
  --connections <n>      connections of every load (default 10)
  --requests <n>         requests per measured run of the throughput scenarios, calls per round of inject (default 20000)
  --rounds <n>           rounds of the throughput scenarios; medians are reported (default 3)
  --login-seconds <n>    seconds of each login measurement (default 8)
  --flood-seconds <n>    seconds of /business/data alone, then under the login flood (default 8)
  --memory-tokens <a,b>  store sizes for the memory per token (default 100000,1000000)
  --only <a,b>           scenarios to run: ${SCENARIOS.join(', ')}
  --json <file>          also write the results as JSON
  --profile <dir>        run the servers with --cpu-prof, profiles written to <dir>
`

function positiveInteger (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, not ${value}`)
  return parsed
}

/** The options of a run, from the command line. Throws with a one-line message on a bad one. */
export function parseOptions (argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      connections: { type: 'string' },
      requests: { type: 'string' },
      rounds: { type: 'string' },
      'login-seconds': { type: 'string' },
      'flood-seconds': { type: 'string' },
      'memory-tokens': { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true
  })
  if (values.help) return 'help'
  const quick = values.quick
  const only = new Set<ScenarioName>()
  for (const name of (values.only ?? SCENARIOS.join(',')).split(',')) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario ${name} (${SCENARIOS.join(', ')})`)
    only.add(name as ScenarioName)
  }
  const memoryTokens = values['memory-tokens'] === undefined
    ? (quick ? [5_000, 20_000] : [100_000, 1_000_000])
    : values['memory-tokens'].split(',').map((value) => positiveInteger('memory-tokens', value, 0))
  const requests = positiveInteger('requests', values.requests, quick ? 300 : 20_000)
  const connections = positiveInteger('connections', values.connections, 10)
  if (connections > requests) throw new Error('--connections cannot exceed --requests')
  return {
    quick,
    connections,
    requests,
    warmup: quick ? 100 : Math.max(connections, Math.round(requests / 4)),
    rounds: positiveInteger('rounds', values.rounds, quick ? 1 : 3),
    loginSeconds: positiveInteger('login-seconds', values['login-seconds'], quick ? 1 : 8),
    floodSeconds: positiveInteger('flood-seconds', values['flood-seconds'], quick ? 1 : 8),
    memoryTokens,
    cleanupTokens: Math.max(...memoryTokens),
    json: values.json,
    only,
    profile: values.profile
  }
}
