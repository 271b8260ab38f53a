import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { onTestFinished } from 'vitest'
import { PROJECT_ROOT } from './server-process.js'

/**
 * The repository as a fresh clone or a platform has it: every tracked or new file that git
 * does not ignore (so no node_modules, dist or .env), with node_modules linked in since
 * `npm ci` would give the same tree. Deleted when the test ends.
 */
export function freshCopy (): string {
  const copy = mkdtempSync(join(tmpdir(), 'deploy-'))
  onTestFinished(() => rmSync(copy, { recursive: true, force: true }))
  for (const file of repositoryFiles()) {
    mkdirSync(dirname(join(copy, file)), { recursive: true })
    copyFileSync(join(PROJECT_ROOT, file), join(copy, file))
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir')
  return copy
}

/** What git would push; outside a git checkout, the tree less what .gitignore names. */
function repositoryFiles (): string[] {
  let listed: string[]
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']
    }).split('\0')
  } catch {
    const ignored = new Set(['.git', 'node_modules', 'dist', 'coverage', '.env', '.scratch', '.bench'])
    listed = readdirSync(PROJECT_ROOT, { recursive: true, encoding: 'utf8' })
      .filter((file) => !file.split(sep).some((part) => ignored.has(part)))
  }
  return listed.filter((file) => file !== '' && existsSync(join(PROJECT_ROOT, file)) && statSync(join(PROJECT_ROOT, file)).isFile())
}
