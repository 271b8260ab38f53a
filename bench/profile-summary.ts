/**
 * Where a CPU profile's time went: self time by package (node_modules/<name>, Node's
 * own modules, the app's files, the garbage collector...) and the heaviest functions.
 * `npm run bench -- --profile <dir>` prints one per server; alone:
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [functions to show]`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { table } from './report.js'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

/** The package a frame belongs to: a node_modules package, node:<module>, an app file, or V8's own entries. */
function packageOf ({ url, functionName }: CallFrame): string {
  if (url === '') return functionName === '' ? '(native)' : functionName
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal/*' : url
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (inModules !== null) return inModules[1]!
  return `app: ${url.replace(/^file:\/\/.*?\/(dist|src|plugins|bench)\//, '$1/')}`
}

function frameName ({ functionName, url, lineNumber }: CallFrame): string {
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src|plugins|bench)\//, '$1/')
  return `${functionName || '(anonymous)'} ${where}${url === '' ? '' : `:${lineNumber + 1}`}`
}

/** The main thread's profile in a --cpu-prof-dir (thread 0; tsx's loader runs in a thread of its own). */
export function mainThreadProfile (directory: string): string | undefined {
  if (!existsSync(directory)) return undefined
  const name = readdirSync(directory).find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file))
  return name === undefined ? undefined : join(directory, name)
}

export function summarizeProfile (file: string, top = 15): string | undefined {
  if (!existsSync(file)) return undefined
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id)!
    const micros = profile.timeDeltas[index] ?? 0
    if (frame.functionName === '(idle)') return
    total += micros
    byPackage.set(packageOf(frame), (byPackage.get(packageOf(frame)) ?? 0) + micros)
    byFunction.set(frameName(frame), (byFunction.get(frameName(frame)) ?? 0) + micros)
  })
  const rows = (map: Map<string, number>) => [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => [name, (100 * micros / total).toFixed(1), (micros / 1000).toFixed(0)])
  return [
    `busy ${(total / 1e6).toFixed(1)} s (idle left out)`,
    '',
    table(['self time by package', '%', 'ms'], rows(byPackage)),
    '',
    table(['self time by function', '%', 'ms'], rows(byFunction))
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  const summary = file === undefined ? undefined : summarizeProfile(file, Number(process.argv[3] ?? 25))
  if (summary === undefined) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [functions to show]\n')
    process.exit(2)
  }
  process.stdout.write(summary + '\n')
}
