import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The programs that some tests run but npm cannot install, each with the Debian package that brings it. */
const DEBIAN_PACKAGES = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  nginx: 'nginx',
  http: 'httpie',
  chromium: 'chromium'
} as const

export type SystemBinary = keyof typeof DEBIAN_PACKAGES

/** The sbin folders, where Debian puts nginx and which a normal user's PATH may lack. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

/** The path of `binary`, from PATH or an sbin folder; undefined where it is not installed. */
export function findBinary (binary: SystemBinary): string | undefined {
  const folders = [...(process.env.PATH ?? '').split(delimiter).filter((folder) => folder !== ''), ...SBIN]
  for (const folder of folders) {
    const candidate = join(folder, binary)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

function missing (binary: SystemBinary): string {
  const debianPackage = DEBIAN_PACKAGES[binary]
  return `${binary} is not installed (Debian: apt-get install ${debianPackage})`
}

/** The path of `binary`, or an error that says which package to install. */
export function requireBinary (binary: SystemBinary): string {
  const path = findBinary(binary)
  if (path === undefined) throw new Error(missing(binary))
  return path
}

/**
 * Whether the tests that need `binary` are skipped: only where it is missing outside CI,
 * and then one line says so and what to install. In CI (`CI` set) they run, and fail on
 * the missing binary (through requireBinary), since .ci/run installs every one of them.
 */
export function skipWithout (binary: SystemBinary, tests: string): boolean {
  if (findBinary(binary) !== undefined || process.env.CI) return false
  process.stderr.write(`Skipping ${tests}: ${missing(binary)}\n`)
  return true
}
