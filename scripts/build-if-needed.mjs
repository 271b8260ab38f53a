// Compiles src/ and plugins/ into dist/ when dist/ is missing or older than a source file
// (or tsconfig.json), and does nothing otherwise: `npm start` and the command-line scripts
// then never run stale code after an edit, nor pay for the compiler on every call. `npm ci`
// builds once (the `prepare` script runs this with --install). Where the dev dependencies
// were pruned after a platform build, the existing dist/ is used.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

/** Written by every build (tsc's incremental state); its time is the build's. */
const BUILD_STAMP = 'dist/.tsbuildinfo'
const ENTRY = 'dist/src/server.js'
const SOURCES = ['src', 'plugins', 'tsconfig.json']

const atInstall = process.argv.includes('--install')

if (existsSync(ENTRY) && existsSync(BUILD_STAMP) && newestChange(SOURCES) <= statSync(BUILD_STAMP).mtimeMs) process.exit(0)

let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  if (existsSync(ENTRY)) {
    if (!atInstall) console.error('dist/ is older than src/, and TypeScript is not installed to rebuild it: running dist/ as it is.')
    process.exit(0)
  }
  // A production install (dev dependencies omitted) with nothing built: `npm start` says so.
  if (atInstall) process.exit(0)
  console.error('Cannot build: TypeScript is not installed and dist/ is missing. Run `npm ci` first.')
  process.exit(1)
}
console.error(existsSync(ENTRY) ? 'src/ changed since the last build: compiling into dist/ …' : 'Compiling src/ and plugins/ into dist/ …')
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' })
// tsc leaves its state file alone when no output changed (a file saved without a change):
// mark the build as checked now, so the next call does not compile again.
const now = new Date()
utimesSync(BUILD_STAMP, now, now)

/**
 * The latest modification time (ms) among the paths and everything under them; a
 * directory's own time counts too, since adding, renaming or removing a file changes it.
 */
function newestChange (paths) {
  let newest = 0
  for (const path of paths) {
    if (!existsSync(path)) continue
    const stat = statSync(path)
    newest = Math.max(newest, stat.mtimeMs)
    if (stat.isDirectory()) newest = Math.max(newest, newestChange(readdirSync(path).map((entry) => join(path, entry))))
  }
  return newest
}
