// Compiles src/ and plugins/ into dist/ when the compiler is installed (tsc's
// incremental build makes an up-to-date tree cost about a second). Where the dev
// dependencies were pruned after a platform build, the existing dist/ is used.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  if (existsSync('dist/src/server.js')) process.exit(0)
  console.error('Cannot build: TypeScript is not installed and dist/ is missing. Run `npm ci` first.')
  process.exit(1)
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' })
