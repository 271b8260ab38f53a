import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { PATH_WITH_THIS_NODE, PROJECT_ROOT } from '../helpers/server-process.js'

const engines = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node

/** The majors scripts/test-node-versions.sh runs by default, beside the machine's own. */
function scriptMajors (): number[] {
  const script = readFileSync(join(PROJECT_ROOT, 'scripts/test-node-versions.sh'), 'utf8')
  const list = /^\[ .* \] \|\| majors=\(([0-9 ]+)\)$/m.exec(script)?.[1]
  if (list === undefined) throw new Error('no default list of majors in scripts/test-node-versions.sh')
  return list.split(' ').map(Number)
}

/**
 * The suite runs on Node 20, 22 and 24 (.ci/run: `npm test`, then
 * scripts/test-node-versions.sh); these tests hold package.json and the child processes
 * to the Node that runs them.
 */
describe('Node.js versions', () => {
  it('runs on a Node that package.json engines accepts', () => {
    expect(semver.satisfies(process.version, engines), `${process.version} against ${engines}`).toBe(true)
  })

  it('declares in engines the current LTS lines that CI tests, and not the odd releases between them', () => {
    expect(scriptMajors()).toEqual([22, 24])
    for (const major of [20, ...scriptMajors()]) expect(semver.intersects(engines, `^${major}`), `Node ${major}`).toBe(true)
    for (const major of [19, 21, 23]) expect(semver.intersects(engines, `^${major}`), `Node ${major}`).toBe(false)
  })

  it('starts the children that npm and sh run on the Node that runs the suite', () => {
    const env = { PATH: PATH_WITH_THIS_NODE, HOME: process.env.HOME ?? '', npm_config_update_notifier: 'false' }
    const viaShell = spawnSync('sh', ['-c', 'node -p process.version'], { env, encoding: 'utf8' })
    expect(viaShell.stdout.trim(), viaShell.stderr).toBe(process.version)
    const viaNpm = spawnSync('npm', ['exec', '--offline', '--', 'node', '-p', 'process.version'], { cwd: PROJECT_ROOT, env, encoding: 'utf8' })
    expect(viaNpm.stdout.trim(), viaNpm.stderr).toBe(process.version)
  })
})
